import { setTimeout as sleep } from 'node:timers/promises';

import type { ReconcilerOptions } from '../../src/engine/reconciler.js';
import type { EngineEvent, InstanceInfo } from '../../src/engine/types.js';

import type { TestPlane } from './engine.js';

/**
 * A reconcile loop quick enough for tests: passes every 300 ms, orphans
 * stopped after 500 ms, a crash loop at 4 crashes, short backoffs; drift
 * scans only when a test asks for one.
 */
export const quickReconcile: ReconcilerOptions = {
  intervalMs: 300,
  orphanGraceMs: 500,
  driftIntervalMs: 3_600_000,
  crashLoopFailures: 4,
  failureWindowMs: 30_000,
  backoffBaseMs: 200,
  backoffMaxMs: 1000,
};

/** Polls `probe` until it gives a value (not undefined or false); fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Ways to wait on one plane's stack: its instances and its recorded events. */
export function watch(plane: () => TestPlane, stack = 'web') {
  const instances = (): Promise<InstanceInfo[]> => plane().daemon.engine.instances({ stack });

  async function events(type: EngineEvent['type'], of = stack): Promise<EngineEvent[]> {
    const out: EngineEvent[] = [];
    for await (const e of plane().daemon.engine.events({ stack: of }))
      if (e.type === type) out.push(e);
    return out;
  }

  /** A recorded event of a type that satisfies `test`; on a time-out, prints what did happen. */
  function eventually(
    type: EngineEvent['type'],
    test: (e: EngineEvent) => boolean = () => true,
    timeoutMs = 20_000,
    of = stack,
  ): Promise<EngineEvent> {
    return until(
      `a ${type} event`,
      async () => (await events(type, of)).find(test),
      timeoutMs,
    ).catch(async (error: unknown) => {
      for await (const e of plane().daemon.engine.events({ stack: of }))
        if (e.type !== 'progress') console.error(e.at, e.type, e.message);
      throw error;
    });
  }

  /** `count` healthy, serving instances (after a heal or a deploy). */
  function settled(count = 2): Promise<InstanceInfo[]> {
    return until(`${count} serving instances`, async () => {
      const list = await instances();
      return list.length === count && list.every((i) => i.serving && i.state === 'running') && list;
    });
  }

  return { instances, events, eventually, settled };
}
