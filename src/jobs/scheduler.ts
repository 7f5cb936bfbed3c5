import type { CronSchedule } from './cron.js';
import { parseCron } from './cron.js';
import { CronError, JobError } from './errors.js';

/** A run the scheduler asks for. */
export interface DueJob {
  readonly key: string;
  readonly schedule: string;
  /** The minute the schedule named (the run may start a little later). */
  readonly scheduledAt: Date;
  /** Aborted when the job is removed or the scheduler closes: the run should stop. */
  readonly signal: AbortSignal;
}

/** A due time that was let pass because the job's previous run had not finished. */
export interface SkippedRun {
  readonly key: string;
  readonly schedule: string;
  readonly scheduledAt: Date;
  readonly reason: 'still-running';
}

export interface JobSchedulerOptions {
  /** Starts a run; the job is not started again until the promise settles. */
  readonly onDue: (job: DueJob) => Promise<void>;
  readonly onSkip?: (skipped: SkippedRun) => void;
  /** A run's onDue rejected (default: a process warning). */
  readonly onError?: (key: string, error: unknown) => void;
  /** The clock (tests); default `new Date()`. */
  readonly now?: () => Date;
  /** Closes the scheduler when aborted. */
  readonly signal?: AbortSignal;
  /**
   * The longest the timer sleeps before looking at the clock again (default
   * 60 s). Timers count elapsed time, the schedule is wall-clock time: a
   * clock that is set, or a machine that sleeps, is noticed within this.
   */
  readonly maxSleepMs?: number;
}

interface Entry {
  readonly schedule: CronSchedule;
  next: Date | undefined;
}

interface Run {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/**
 * Starts jobs when their cron schedule comes round (see cron.ts: local time,
 * Vixie semantics). A job never runs twice at once: a due time that finds the
 * previous run still going is skipped (and reported to `onSkip`), not queued.
 * Due times missed while the process slept or the clock jumped are not
 * caught up one by one: the job runs once, then waits for its next time.
 */
export class JobScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly runs = new Map<string, Run>();
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: JobSchedulerOptions) {
    this.now = options.now ?? (() => new Date());
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
    if (options.signal?.aborted) void this.close();
  }

  /**
   * Schedules a job, or changes its schedule; returns its next due time.
   * Setting the same schedule again changes nothing (applies are idempotent).
   * Throws CronError for a schedule that is invalid or never comes round.
   */
  set(key: string, schedule: string): Date {
    if (this.closed) throw new JobError('SCHEDULER_CLOSED', 'the job scheduler is closed');
    const current = this.entries.get(key);
    if (current?.next !== undefined && current.schedule.expression === schedule)
      return current.next;
    const parsed = parseCron(schedule);
    const next = parsed.next(this.now());
    if (next === undefined) throw new CronError(schedule, 'no date ever matches it', 'CRON_NEVER');
    this.entries.set(key, { schedule: parsed, next });
    this.arm();
    return next;
  }

  /** Unschedules a job and aborts its run, if one is going. */
  remove(key: string): boolean {
    const had = this.entries.delete(key);
    this.runs.get(key)?.controller.abort();
    this.arm();
    return had;
  }

  /** When the job is due next. */
  nextRun(key: string): Date | undefined {
    return this.entries.get(key)?.next;
  }

  /** Whether a run of the job is going. */
  isRunning(key: string): boolean {
    return this.runs.has(key);
  }

  /**
   * Starts every job that is due now; resolves when the runs it started have
   * finished. The timer calls it; tests call it after moving their clock.
   */
  async tick(): Promise<void> {
    if (this.closed) return;
    const now = this.now();
    const started: Promise<void>[] = [];
    try {
      for (const [key, entry] of this.entries) {
        const due = entry.next;
        if (due === undefined || due > now) continue;
        entry.next = entry.schedule.next(now);
        const job = { key, schedule: entry.schedule.expression, scheduledAt: due };
        if (this.runs.has(key)) {
          this.options.onSkip?.({ ...job, reason: 'still-running' });
        } else {
          started.push(this.start(job));
        }
      }
    } finally {
      // Even when onSkip threw: the schedule must go on.
      this.arm();
    }
    await Promise.all(started);
  }

  private start(job: Omit<DueJob, 'signal'>): Promise<void> {
    const controller = new AbortController();
    const done = (async () => {
      try {
        await this.options.onDue({ ...job, signal: controller.signal });
      } catch (error) {
        this.report(job.key, error);
      } finally {
        this.runs.delete(job.key);
      }
    })();
    this.runs.set(job.key, { controller, done });
    return done;
  }

  private report(key: string, error: unknown): void {
    if (this.options.onError) {
      this.options.onError(key, error);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.emitWarning(`job ${key}: ${message}`, 'DroverJobWarning');
  }

  /** Sleeps until the earliest due time (at most maxSleepMs), then ticks. */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    let earliest: number | undefined;
    for (const { next } of this.entries.values()) {
      if (next !== undefined && (earliest === undefined || next.getTime() < earliest)) {
        earliest = next.getTime();
      }
    }
    if (earliest === undefined) return;
    const wait = Math.min(
      Math.max(earliest - this.now().getTime(), 0),
      this.options.maxSleepMs ?? 60_000,
    );
    this.timer = setTimeout(() => void this.tick(), wait);
    // A schedule alone does not keep the process alive.
    this.timer.unref();
  }

  /** Unschedules everything, aborts the runs that are going, and waits for them to end. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.entries.clear();
    const runs = [...this.runs.values()];
    for (const run of runs) run.controller.abort();
    await Promise.all(runs.map((run) => run.done));
  }
}
