import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { EngineEvent, InstanceInfo } from '../src/engine/types.js';

import type { TestPlane } from './support/engine.js';
import { get, startPlane } from './support/engine.js';

// A plane of its own: failures other tests cause must not count towards this crash loop.
let plane: TestPlane;
beforeAll(async () => {
  plane = await startPlane({
    reconcile: {
      intervalMs: 300,
      driftIntervalMs: 3_600_000,
      crashLoopFailures: 4,
      failureWindowMs: 30_000,
      backoffBaseMs: 200,
      backoffMaxMs: 1000,
    },
  });
  expect((await plane.apply({ version: '1' })).status).toBe('converged');
}, 60_000);
afterAll(async () => {
  await plane.close();
}, 60_000);

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      for await (const e of plane.daemon.engine.events({ stack: 'web' }))
        if (e.type !== 'progress') console.error(e.at, e.type, e.message);
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const web = (): Promise<InstanceInfo[]> => plane.daemon.engine.instances({ stack: 'web' });

async function events(type: EngineEvent['type']): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  for await (const e of plane.daemon.engine.events({ stack: 'web' }))
    if (e.type === type) out.push(e);
  return out;
}

const eventually = (
  type: EngineEvent['type'],
  test: (e: EngineEvent) => boolean,
  timeoutMs: number,
): Promise<EngineEvent> =>
  until(`a ${type} event`, async () => (await events(type)).find(test), timeoutMs);

async function settled(): Promise<InstanceInfo[]> {
  return until('two serving instances', async () => {
    const list = await web();
    return list.length === 2 && list.every((i) => i.serving && i.state === 'running') && list;
  });
}

describe('crash loops', () => {
  it('marks a revision that keeps crashing as failed and rolls back to the one before', async () => {
    const current = async (): Promise<string | undefined> =>
      (await plane.daemon.engine.history('web', 'web')).find((r) => r.current)?.id;
    const good = await current();
    const result = await plane.apply({ version: '2', crash_after: '1500' });
    expect(result.status).toBe('converged');
    const crashing = await current();
    expect(crashing).not.toBe(good);
    const failed = await eventually(
      'revision.failed',
      (e) => e.data?.['revision'] === crashing,
      30_000,
    );
    expect(failed.message).toContain('crash loop');
    expect(failed.message).toContain(`rolling back to ${good?.slice(0, 12)}`);
    await until(
      'the previous revision back',
      async () => {
        const now = await settled();
        return now.every((i) => i.revision === good) && now;
      },
      30_000,
    );
    expect((await get(plane.proxyPort)).body).toBe('version 1\n');
    expect(await current()).toBe(good);
    const history = await plane.daemon.engine.stackHistory('web');
    expect(history[0]?.kind).toBe('rollback');
    expect(history[0]?.createdBy).toBe('drover (reconcile)');
  }, 60_000);
});
