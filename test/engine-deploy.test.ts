import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestPlane } from './support/engine.js';
import { get, load, startPlane } from './support/engine.js';

let plane: TestPlane;
beforeAll(async () => {
  plane = await startPlane({ drainTimeoutMs: 5000 });
  expect((await plane.apply({ version: '0' })).status).toBe('converged');
}, 60_000);
afterAll(async () => {
  await plane.close();
}, 60_000);

const strategies = [
  { strategy: 'rolling', max_surge: 1, max_unavailable: 0 },
  { strategy: 'blue-green', keep_previous: '200ms' },
  {
    strategy: 'canary',
    steps: [
      { weight: 20, pause: '200ms' },
      { weight: 60, pause: '200ms' },
    ],
  },
];

describe('zero-downtime deployments', () => {
  it('20 consecutive deploys under constant load, alternating rolling, blue-green and canary: no failed request', async () => {
    const traffic = load(plane.proxyPort, 8);
    const results = [];
    for (let i = 1; i <= 20; i++) {
      const deploy = strategies[i % strategies.length];
      const result = await plane.apply({ version: String(i), deploy: JSON.stringify(deploy) });
      results.push(
        `${i} ${deploy?.strategy}: ${result.status}${result.error ? ` ${result.error}` : ''}`,
      );
    }
    const { ok, failures, bodies } = await traffic.stop();
    expect(results.filter((r) => !r.endsWith('converged'))).toEqual([]);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(500);
    expect(bodies.get('version 20')).toBeGreaterThan(0);
    expect((await get(plane.proxyPort)).body).toBe('version 20\n');
    // Everything old is gone once the blue-green keep time passed.
    await new Promise((r) => setTimeout(r, 1500));
    const instances = await plane.daemon.engine.instances({ stack: 'web' });
    expect(instances.map((i) => i.revision).every((r) => r === instances[0]?.revision)).toBe(true);
    expect(instances).toHaveLength(2);
  }, 240_000);

  it('a revision that fails its health check never gets traffic; the previous one keeps serving', async () => {
    for (const deploy of strategies) {
      const traffic = load(plane.proxyPort, 4);
      const result = await plane.apply({
        version: 'broken',
        broken: '1',
        deploy: JSON.stringify(deploy),
      });
      const { failures, bodies } = await traffic.stop();
      expect(result.status).toBe('failed');
      expect(result.error).toContain('health check');
      expect(result.error).toContain('previous instances keep serving');
      expect(failures).toEqual([]);
      expect(bodies.has('version broken')).toBe(false);
      const instances = await plane.daemon.engine.instances({ stack: 'web' });
      expect(instances.every((i) => i.serving)).toBe(true);
      expect(instances).toHaveLength(2);
    }
  }, 120_000);

  it('a canary whose new revision answers 5xx is rolled back automatically', async () => {
    const deploy = {
      strategy: 'canary',
      steps: [{ weight: 50, pause: '1s' }],
      analysis: { max_error_rate: 0.05 },
    };
    // The new revision answers /fail with 500 (the old one with 200): keep asking for it while the canary runs.
    let applying = true;
    let served = 0;
    const asking = (async () => {
      while (applying) {
        await get(plane.proxyPort, '/fail');
        served++;
      }
    })();
    const result = await plane.apply({
      version: 'flaky',
      fail_requests: '1',
      deploy: JSON.stringify(deploy),
    });
    applying = false;
    await asking;
    expect(served).toBeGreaterThan(20);
    expect(result.status).toBe('failed');
    expect(result.error).toContain('canary analysis failed at 50%');
    expect((await get(plane.proxyPort)).body).not.toContain('flaky');
    const instances = await plane.daemon.engine.instances({ stack: 'web' });
    expect(instances.every((i) => i.revision === instances[0]?.revision && i.serving)).toBe(true);
  }, 60_000);
});
