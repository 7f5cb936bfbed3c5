export type { CronSchedule } from './cron.js';
export { parseCron } from './cron.js';
export { CronError, JobCleanupError, JobError, JobOptionsError } from './errors.js';
export { DEFAULT_BACKOFF, runJob } from './run.js';
export type { DueJob, JobSchedulerOptions, SkippedRun } from './scheduler.js';
export { JobScheduler } from './scheduler.js';
export type {
  AttemptEvent,
  Backoff,
  JobAttempt,
  JobResult,
  JobSpec,
  JobStatus,
  RunJobOptions,
} from './types.js';
