import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { EngineEvent } from '../src/engine/types.js';

import type { TestPlane } from './support/engine.js';
import { get, startPlane } from './support/engine.js';

let plane: TestPlane;
beforeAll(async () => {
  plane = await startPlane();
}, 60_000);
afterAll(async () => {
  await plane.close();
}, 60_000);

describe('apply', () => {
  it('brings a stack up behind the proxy, and a second apply changes nothing', async () => {
    const events: EngineEvent[] = [];
    const first = await plane.apply({}, events);
    expect(first.status).toBe('converged');
    expect(first.outputs).toEqual([
      { name: 'url', value: `http://web.localhost:${plane.proxyPort}/` },
    ]);
    expect((await get(plane.proxyPort)).body).toBe('version 1\n');
    const instances = await plane.daemon.engine.instances({ stack: 'web' });
    expect(instances).toHaveLength(2);
    expect(
      instances.every((i) => i.state === 'running' && i.serving && i.health === 'healthy'),
    ).toBe(true);
    expect(events.map((e) => e.phase).filter(Boolean)).toEqual(
      expect.arrayContaining(['building', 'starting', 'healthy', 'registering', 'done']),
    );

    const second = await plane.apply();
    expect(second.status).toBe('unchanged');
    expect((await plane.daemon.engine.instances({ stack: 'web' })).map((i) => i.id).sort()).toEqual(
      instances.map((i) => i.id).sort(),
    );
  });
});
