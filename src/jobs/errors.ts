import { DroverError } from '../errors.js';

/** Base class of job failures; `code` is stable and machine-readable. */
export class JobError extends DroverError {}

/** A schedule that is not a five-field cron expression, or that never comes round. */
export class CronError extends JobError {
  constructor(
    readonly expression: string,
    reason: string,
    code: 'CRON_INVALID' | 'CRON_NEVER' = 'CRON_INVALID',
  ) {
    super(code, `schedule '${expression}': ${reason}`);
  }
}

/** runJob was called with options it cannot use (a programming error, not a failed run). */
export class JobOptionsError extends JobError {
  constructor(message: string) {
    super('JOB_OPTIONS', message);
  }
}

/** An attempt's instance could not be stopped and removed: it may still be on the machine. */
export class JobCleanupError extends JobError {
  constructor(
    readonly instance: string,
    options: { cause: unknown },
  ) {
    super('JOB_CLEANUP', `cannot stop and remove instance ${instance}`, options);
  }
}
