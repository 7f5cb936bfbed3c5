import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { backoffMs, Trigger } from './trigger.js';

// Fake timers: these tests are about which runs happen when, not about speed.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function counting(jobMs = 0) {
  const runs: number[] = [];
  const job = async () => {
    runs.push(performance.now());
    if (jobMs > 0) await new Promise((resolve) => setTimeout(resolve, jobMs));
  };
  return { runs, job };
}

describe('Trigger', () => {
  it('runs once after a burst, debounce ms after its last change', async () => {
    const { runs, job } = counting();
    const trigger = new Trigger(job, 100);
    for (let i = 0; i < 5; i++) {
      trigger.changed();
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(50);
    expect(runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toHaveLength(1);
  });

  it('still runs every 10 × debounce while changes never pause', async () => {
    const { runs, job } = counting();
    const trigger = new Trigger(job, 100);
    for (let i = 0; i < 60; i++) {
      trigger.changed();
      await vi.advanceTimersByTimeAsync(50);
    }
    // 3 s of changes every 50 ms: a run at least every second, never starved.
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const gaps = runs.map((at, i) => at - (runs[i - 1] ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1_050);
    trigger.close();
  });

  it('runs again after a run during which something changed', async () => {
    const { runs, job } = counting(500);
    const trigger = new Trigger(job, 10);
    trigger.changed();
    await vi.advanceTimersByTimeAsync(20);
    expect(runs).toHaveLength(1);
    trigger.changed(); // while the job is still running
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toHaveLength(2);
    await trigger.idle();
  });

  it('keeps a retry at its time whatever changes meanwhile', async () => {
    const { runs, job } = counting();
    const trigger = new Trigger(job, 10);
    trigger.retryIn(1_000);
    for (let i = 0; i < 10; i++) {
      trigger.changed();
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(runs).toHaveLength(1);
    // After the retry ran, changes are debounced as usual again.
    trigger.changed();
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toHaveLength(2);
  });

  it('leaves no timer behind when closed', async () => {
    const { runs, job } = counting();
    const trigger = new Trigger(job, 100);
    trigger.changed();
    trigger.retryIn(5_000);
    expect(vi.getTimerCount()).toBe(1);
    trigger.close();
    expect(vi.getTimerCount()).toBe(0);
    trigger.changed();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toHaveLength(0);
  });
});

describe('backoffMs', () => {
  it('doubles from the first delay up to the cap', () => {
    const retry = { initialMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5, 30].map((n) => backoffMs(n, retry))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });
});
