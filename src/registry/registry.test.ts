import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { Store } from '../store/index.js';
import { openSqliteStore } from '../store/index.js';

import { applyUpdate, follow, Registry } from './registry.js';
import type { Endpoint, RegistrySnapshot } from './types.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function open(): Promise<{ store: Store; registry: Registry }> {
  const dir = await mkdtemp(join(tmpdir(), 'drover-registry-'));
  const store = openSqliteStore({ path: join(dir, 'state.db') });
  cleanup.push(
    () => rm(dir, { recursive: true, force: true }),
    () => store.close(),
  );
  return { store, registry: new Registry(store) };
}

const ep = (instance: string, extra: Partial<Endpoint> = {}): Endpoint => ({
  stack: 'shop',
  service: 'web',
  instance,
  address: '127.0.0.1',
  port: 30000,
  revision: 'r1',
  weight: 1,
  healthy: true,
  ...extra,
});

describe('the registry', () => {
  it('keeps endpoints and routes per stack and service', async () => {
    const { registry } = await open();
    await registry.register(ep('a'));
    await registry.register(ep('b', { service: 'api' }));
    await registry.register(ep('c', { stack: 'other' }));
    await registry.putRoute({ stack: 'shop', name: 'front', path: '/', service: 'web' });
    expect((await registry.endpoints('shop', 'web')).map((e) => e.instance)).toEqual(['a']);
    expect((await registry.endpoints('shop')).map((e) => e.instance)).toEqual(['b', 'a']);
    const snap = await registry.snapshot('shop');
    expect(snap.endpoints).toHaveLength(2);
    expect(snap.routes).toEqual([{ stack: 'shop', name: 'front', path: '/', service: 'web' }]);
    expect((await registry.snapshot()).endpoints).toHaveLength(3);
  });

  it('changes weight, health and draining in place, and not for an endpoint that is gone', async () => {
    const { registry } = await open();
    await registry.register(ep('a'));
    expect(
      await registry.update(
        { stack: 'shop', service: 'web', instance: 'a' },
        { weight: 10, draining: true },
      ),
    ).toBe(true);
    expect((await registry.endpoints('shop', 'web'))[0]).toMatchObject({
      weight: 10,
      draining: true,
      healthy: true,
    });
    await registry.deregister({ stack: 'shop', service: 'web', instance: 'a' });
    expect(
      await registry.update({ stack: 'shop', service: 'web', instance: 'a' }, { weight: 1 }),
    ).toBe(false);
  });

  it('delivers ordered changes that resume from a store revision', async () => {
    const { registry } = await open();
    await registry.register(ep('a'));
    const start = await registry.snapshot('shop');
    await registry.register(ep('b'));
    await registry.deregister({ stack: 'shop', service: 'web', instance: 'a' });
    await registry.putRoute({ stack: 'shop', name: 'r', path: '/', service: 'web' });
    await registry.register(ep('x', { stack: 'other' }));
    const controller = new AbortController();
    const updates = [];
    for await (const update of registry.watch({
      fromRevision: start.revision,
      stack: 'shop',
      signal: controller.signal,
    })) {
      updates.push(update);
      if (updates.length === 3) controller.abort();
    }
    expect(updates.map((u) => u.changes.map((c) => `${c.kind} ${c.type}`))).toEqual([
      ['endpoint put'],
      ['endpoint delete'],
      ['route put'],
    ]);
    let picture: RegistrySnapshot = start;
    for (const update of updates) picture = applyUpdate(picture, update);
    expect(picture.endpoints.map((e) => e.instance)).toEqual(['b']);
    expect(picture.routes).toHaveLength(1);
  });

  it('follow() gives the current picture, then each changed one', async () => {
    const { registry } = await open();
    await registry.register(ep('a'));
    const controller = new AbortController();
    const seen: string[][] = [];
    const following = (async () => {
      for await (const picture of follow(registry, { stack: 'shop', signal: controller.signal })) {
        seen.push(picture.endpoints.map((e) => e.instance).sort());
        if (seen.length === 3) controller.abort();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await registry.register(ep('b'));
    await registry.deregister({ stack: 'shop', service: 'web', instance: 'a' });
    await following;
    expect(seen).toEqual([['a'], ['a', 'b'], ['b']]);
  });

  it('an endpoint on a lease leaves when the lease expires', async () => {
    const { store, registry } = await open();
    const lease = await store.grantLease(200);
    await registry.register(ep('leased'), { lease: lease.id });
    expect(await registry.endpoints('shop')).toHaveLength(1);
    const deadline = Date.now() + 5000;
    while ((await registry.endpoints('shop')).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await registry.endpoints('shop')).toEqual([]);
  });
});
