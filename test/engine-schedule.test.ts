import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestPlane } from './support/engine.js';
import { startPlane } from './support/engine.js';

/** The daemon's clock for job schedules: the test moves it, real processes run. */
let clock = new Date('2026-11-21T10:01:00');
let plane: TestPlane;

const apply = (label: string): ReturnType<TestPlane['daemon']['engine']['apply']> =>
  plane.daemon.engine.apply({
    file: join(plane.dir, 'scheduled.yaml'),
    stack: 'cron',
    parameters: [{ name: 'label', value: label, fromText: true, source: '-p' }],
    who: 'test',
  });

const ticks = (): string[] => {
  const file = join(plane.home, 'volumes', 'cron', 'data', 'ticks.log');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
};

beforeAll(async () => {
  plane = await startPlane({ now: () => clock });
}, 60_000);
afterAll(() => plane.close(), 60_000);

describe('scheduled jobs', () => {
  it('applying schedules the job: it runs when its time comes, not before', async () => {
    const result = await apply('a');
    expect(result.status, result.error).toBe('converged');
    await plane.daemon.jobs.tick();
    expect(ticks()).toEqual([]);
    clock = new Date('2026-11-21T10:05:00');
    await plane.daemon.jobs.tick();
    expect(ticks()).toEqual(['tick a']);
    const events = await plane.daemon.events.list({ stack: 'cron' });
    expect(events.some((e) => e.type === 'job.succeeded')).toBe(true);
  });

  it('a new revision of the job takes the schedule over', async () => {
    expect((await apply('b')).status).toBe('converged');
    clock = new Date('2026-11-21T10:10:00');
    await plane.daemon.jobs.tick();
    expect(ticks()).toEqual(['tick a', 'tick b']);
  });

  it('the schedule survives a restart of the daemon', async () => {
    await plane.restart();
    clock = new Date('2026-11-21T10:15:00');
    await plane.daemon.jobs.tick();
    expect(ticks()).toEqual(['tick a', 'tick b', 'tick b']);
  });

  it('destroying the stack ends the schedule', async () => {
    expect((await plane.daemon.engine.destroy('cron', 'test')).status).toBe('converged');
    expect(ticks()).toEqual([]); // the volume went with the stack
    clock = new Date('2026-11-21T10:20:00');
    await plane.daemon.jobs.tick();
    expect(ticks()).toEqual([]);
  });
});
