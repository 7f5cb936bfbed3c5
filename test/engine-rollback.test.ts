import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestPlane } from './support/engine.js';
import { get, load, startPlane } from './support/engine.js';

let plane: TestPlane;
beforeAll(async () => {
  plane = await startPlane();
}, 60_000);
afterAll(async () => {
  await plane.close();
}, 60_000);

const blueGreen = JSON.stringify({ strategy: 'blue-green', keep_previous: '30s' });

describe('revisions and rollback', () => {
  it('records who made each revision, when, from which template and parameters', async () => {
    await plane.apply({ version: '1', deploy: blueGreen });
    await plane.apply({ version: '2', deploy: blueGreen });
    const history = await plane.daemon.engine.history('web', 'web');
    expect(history).toHaveLength(2);
    expect(history[0]).toMatchObject({
      current: true,
      createdBy: 'test',
      parameters: expect.objectContaining({ version: '2' }),
    });
    expect(history[1]).toMatchObject({
      current: false,
      parameters: expect.objectContaining({ version: '1' }),
    });
    expect(history[0]?.templateHash).toMatch(/^[0-9a-f]{64}$/);
    const stackHistory = await plane.daemon.engine.stackHistory('web');
    expect(stackHistory.map((s) => s.number)).toEqual([2, 1]);
  });

  it('rolls a service back to the previous revision, instantly while blue-green keeps it, with no failed request', async () => {
    expect((await get(plane.proxyPort)).body).toBe('version 2\n');
    const traffic = load(plane.proxyPort, 4);
    const t0 = Date.now();
    const result = await plane.daemon.engine.rollbackService('web', 'web', { who: 'test' });
    const took = Date.now() - t0;
    const { failures } = await traffic.stop();
    expect(result.status).toBe('converged');
    expect(failures).toEqual([]);
    expect((await get(plane.proxyPort)).body).toBe('version 1\n');
    // The kept set was switched back to, not started again.
    expect(took).toBeLessThan(5000);
    const history = await plane.daemon.engine.history('web', 'web');
    expect(history.find((h) => h.current)?.parameters['version']).toBe('1');
  });

  it('rolls to a named revision, and a whole stack to an earlier stack revision', async () => {
    const history = await plane.daemon.engine.history('web', 'web');
    const two = history.find((h) => h.parameters['version'] === '2');
    const result = await plane.daemon.engine.rollbackService('web', 'web', {
      to: two?.id.slice(0, 12),
      who: 'test',
    });
    expect(result.status).toBe('converged');
    expect((await get(plane.proxyPort)).body).toBe('version 2\n');

    const stack = await plane.daemon.engine.rollbackStack('web', 1, 'test');
    expect(stack.status).toBe('converged');
    expect((await get(plane.proxyPort)).body).toBe('version 1\n');
    const latest = (await plane.daemon.engine.stackHistory('web'))[0];
    expect(latest).toMatchObject({ kind: 'rollback' });
  });

  it('refuses to roll back to a revision that does not exist', async () => {
    await expect(
      plane.daemon.engine.rollbackService('web', 'web', { to: 'ffffffffffff', who: 'test' }),
    ).rejects.toThrow(/no revision/);
    await expect(plane.daemon.engine.rollbackStack('web', 99, 'test')).rejects.toThrow(
      /no stack revision 99/,
    );
  });
});
