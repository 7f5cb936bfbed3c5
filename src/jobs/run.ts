import { runAttempt } from './attempt.js';
import { delay } from './delay.js';
import { JobOptionsError } from './errors.js';
import { ExitWatch } from './exits.js';
import type { Backoff, JobAttempt, JobResult, JobStatus, RunJobOptions } from './types.js';

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, factor: 2, maxMs: 60_000 };

/**
 * Runs a job to completion: one instance per attempt, each with a fresh id,
 * waited for until it exits (success is exit code 0), stopped at the time
 * limit, and stopped and removed once finished, so nothing is left behind.
 * A failed or timed-out attempt is retried up to `retries` times with
 * exponential backoff. Failures of the workload are results, not errors:
 * it rejects only for bad options, or when an instance cannot be removed.
 */
export async function runJob(options: RunJobOptions): Promise<JobResult> {
  checkOptions(options);
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const attempts: JobAttempt[] = [];
  // Made before the first start, so that no exit is missed.
  const watch = new ExitWatch(options.runtime, options.pollMs ?? 5000);
  try {
    for (let number = 1; ; number++) {
      if (options.signal?.aborted) return { status: 'cancelled', attempts };
      const attempt = await runAttempt(options, watch, number);
      attempts.push(attempt);
      const status = statusOf(attempt);
      const retry = (status === 'failed' || status === 'timeout') && number <= options.retries;
      const retryInMs = retry
        ? Math.min(backoff.initialMs * backoff.factor ** (number - 1), backoff.maxMs)
        : undefined;
      options.onAttempt?.({ type: 'finished', attempt, ...(retry ? { retryInMs } : {}) });
      if (retryInMs === undefined) return { status, attempts };
      if (!(await delay(retryInMs, options.signal))) return { status: 'cancelled', attempts };
    }
  } finally {
    watch.close();
  }
}

function statusOf(attempt: JobAttempt): JobStatus {
  if (attempt.cancelled) return 'cancelled';
  if (attempt.timedOut) return 'timeout';
  const clean = attempt.error === undefined && attempt.exitCode === 0 && attempt.signal === null;
  return clean ? 'succeeded' : 'failed';
}

function checkOptions(options: RunJobOptions): void {
  const { retries, timeoutMs, graceMs, pollMs } = options;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new JobOptionsError(`retries must be a whole number, 0 or more (got ${retries})`);
  }
  for (const [name, value] of Object.entries({ timeoutMs, graceMs, pollMs })) {
    if (value !== undefined && !(value >= 0)) {
      throw new JobOptionsError(`${name} must be 0 or more (got ${value})`);
    }
  }
}
