import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestPlane } from './support/engine.js';
import { get, startPlane } from './support/engine.js';
import { quickReconcile, until, watch } from './support/watch.js';

// A plane of its own: failures other tests cause must not count towards this crash loop.
let plane: TestPlane;
beforeAll(async () => {
  plane = await startPlane({ reconcile: quickReconcile });
  expect((await plane.apply({ version: '1' })).status).toBe('converged');
}, 60_000);
afterAll(async () => {
  await plane.close();
}, 60_000);

const { eventually, settled } = watch(() => plane);

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
