import { afterEach, describe, expect, it } from 'vitest';

import { CronError } from './errors.js';
import type { DueJob, JobSchedulerOptions, SkippedRun } from './scheduler.js';
import { JobScheduler } from './scheduler.js';

/** A clock the test moves by hand. */
class Clock {
  constructor(private t: Date) {}
  readonly now = (): Date => new Date(this.t);
  set(date: Date): void {
    this.t = date;
  }
}

/** A promise the test settles. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function at(hour: number, minute: number, second = 0): Date {
  return new Date(2025, 0, 1, hour, minute, second);
}

const schedulers: JobScheduler[] = [];

function scheduler(
  clock: Clock,
  options: Partial<JobSchedulerOptions> = {},
): { scheduler: JobScheduler; due: DueJob[]; skipped: SkippedRun[] } {
  const due: DueJob[] = [];
  const skipped: SkippedRun[] = [];
  const s = new JobScheduler({
    now: clock.now,
    onDue: async (job) => {
      due.push(job);
    },
    onSkip: (skip) => skipped.push(skip),
    ...options,
  });
  schedulers.push(s);
  return { scheduler: s, due, skipped };
}

afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.close();
});

describe('JobScheduler', () => {
  it('runs a job when its time comes, once, then waits for the next', async () => {
    const clock = new Clock(at(10, 0));
    const { scheduler: s, due } = scheduler(clock);
    expect(s.set('nightly', '*/15 * * * *')).toEqual(at(10, 15));

    clock.set(at(10, 14, 59));
    await s.tick();
    expect(due).toEqual([]);

    clock.set(at(10, 15, 0));
    await s.tick();
    await s.tick();
    expect(due.map((d) => [d.key, d.schedule, d.scheduledAt])).toEqual([
      ['nightly', '*/15 * * * *', at(10, 15)],
    ]);
    expect(s.nextRun('nightly')).toEqual(at(10, 30));
  });

  it('runs once for due times missed while asleep, not once per missed time', async () => {
    const clock = new Clock(at(10, 0));
    const { scheduler: s, due } = scheduler(clock);
    s.set('j', '*/15 * * * *');
    clock.set(at(11, 50));
    await s.tick();
    expect(due.map((d) => d.scheduledAt)).toEqual([at(10, 15)]);
    expect(s.nextRun('j')).toEqual(at(12, 0));
  });

  it('runs every job that is due, each with its own schedule', async () => {
    const clock = new Clock(at(10, 0));
    const { scheduler: s, due } = scheduler(clock);
    s.set('a', '* * * * *');
    s.set('b', '*/2 * * * *');
    s.set('c', '0 12 * * *');
    clock.set(at(10, 2));
    await s.tick();
    expect(due.map((d) => d.key).sort()).toEqual(['a', 'b']);
  });

  it('never runs a job twice at once: a due time during a run is skipped and said so', async () => {
    const clock = new Clock(at(10, 0));
    const gate = deferred();
    const started: string[] = [];
    const { scheduler: s, skipped } = scheduler(clock, {
      onDue: async (job) => {
        started.push(job.scheduledAt.toISOString());
        await gate.promise;
      },
    });
    s.set('slow', '* * * * *');

    clock.set(at(10, 1));
    const first = s.tick();
    expect(s.isRunning('slow')).toBe(true);

    clock.set(at(10, 2));
    await s.tick();
    expect(skipped).toEqual([
      { key: 'slow', schedule: '* * * * *', scheduledAt: at(10, 2), reason: 'still-running' },
    ]);
    expect(started).toHaveLength(1);

    gate.resolve();
    await first;
    expect(s.isRunning('slow')).toBe(false);
    clock.set(at(10, 3));
    await s.tick();
    expect(started).toEqual([at(10, 1).toISOString(), at(10, 3).toISOString()]);
  });

  it('keeps the next time when the same schedule is set again, and moves it for a new one', () => {
    const clock = new Clock(at(10, 0));
    const { scheduler: s } = scheduler(clock);
    s.set('j', '0 * * * *');
    clock.set(at(10, 30));
    expect(s.set('j', '0 * * * *')).toEqual(at(11, 0));
    expect(s.set('j', '45 * * * *')).toEqual(at(10, 45));
  });

  it('refuses schedules that are invalid or never come round', () => {
    const { scheduler: s } = scheduler(new Clock(at(10, 0)));
    expect(() => s.set('j', '61 * * * *')).toThrow(CronError);
    try {
      s.set('j', '0 0 30 2 *');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CronError);
      expect((error as CronError).code).toBe('CRON_NEVER');
    }
    expect(s.nextRun('j')).toBeUndefined();
  });

  it('removes a job: it does not run again, and a run going is aborted', async () => {
    const clock = new Clock(at(10, 0));
    let signal: AbortSignal | undefined;
    const { scheduler: s } = scheduler(clock, {
      onDue: async (job) => {
        signal = job.signal;
        await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
      },
    });
    s.set('j', '* * * * *');
    clock.set(at(10, 1));
    const run = s.tick();
    expect(s.remove('j')).toBe(true);
    await run;
    expect(signal?.aborted).toBe(true);
    expect(s.nextRun('j')).toBeUndefined();
    expect(s.remove('j')).toBe(false);
  });

  it('reports a failed run and goes on', async () => {
    const clock = new Clock(at(10, 0));
    const errors: [string, unknown][] = [];
    let calls = 0;
    const { scheduler: s } = scheduler(clock, {
      onDue: async () => {
        calls++;
        throw new Error('boom');
      },
      onError: (key, error) => errors.push([key, error]),
    });
    s.set('j', '* * * * *');
    clock.set(at(10, 1));
    await s.tick();
    clock.set(at(10, 2));
    await s.tick();
    expect(calls).toBe(2);
    expect(errors.map(([key, error]) => [key, (error as Error).message])).toEqual([
      ['j', 'boom'],
      ['j', 'boom'],
    ]);
    expect(s.isRunning('j')).toBe(false);
  });

  it('closes: aborts runs going, waits for them, and runs nothing after', async () => {
    const clock = new Clock(at(10, 0));
    let ended = false;
    const { scheduler: s, due } = scheduler(clock, {
      onDue: async (job) => {
        due.push(job);
        await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
        ended = true;
      },
    });
    s.set('j', '* * * * *');
    clock.set(at(10, 1));
    void s.tick();
    await s.close();
    expect(ended).toBe(true);
    clock.set(at(10, 5));
    await s.tick();
    expect(due).toHaveLength(1);
    expect(() => s.set('k', '* * * * *')).toThrow(/closed/);
  });

  it('closes when its signal aborts', async () => {
    const controller = new AbortController();
    const clock = new Clock(at(10, 0));
    const { scheduler: s, due } = scheduler(clock, { signal: controller.signal });
    s.set('j', '* * * * *');
    controller.abort();
    clock.set(at(10, 1));
    await s.tick();
    expect(due).toEqual([]);
  });

  it('sets its own timer for the next due time', async () => {
    // A clock 50 ms before a whole minute, running at real speed.
    const base = at(10, 0, 59).getTime() + 950;
    const realStart = Date.now();
    const ran = deferred();
    const s = new JobScheduler({
      now: () => new Date(base + (Date.now() - realStart)),
      onDue: async () => ran.resolve(),
    });
    schedulers.push(s);
    s.set('j', '* * * * *');
    await ran.promise;
  });

  it('notices a clock that jumps, within maxSleepMs', async () => {
    const clock = new Clock(at(10, 0));
    const ran = deferred();
    const s = new JobScheduler({
      now: clock.now,
      onDue: async () => ran.resolve(),
      maxSleepMs: 20,
    });
    schedulers.push(s);
    // Due in 60 s by the clock; the timer looks again after 20 ms and sees the jump.
    s.set('j', '* * * * *');
    clock.set(at(10, 1));
    await ran.promise;
  });
});
