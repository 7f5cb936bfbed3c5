import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dockerForTests } from '../src/runtime/testing/docker.js';

import type { TestPlane } from './support/engine.js';
import { get, load, startPlane } from './support/engine.js';
import { quickReconcile, until } from './support/watch.js';

const available = await dockerForTests();
let plane: TestPlane;

beforeAll(async () => {
  if (!available) return;
  const dir = mkdtempSync(join(tmpdir(), 'drover-docker-example-'));
  cpSync(new URL('../examples/docker-hello', import.meta.url).pathname, dir, { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  plane = await startPlane({
    dir,
    reconcile: quickReconcile,
  });
}, 120_000);
afterAll(async () => {
  if (!available) return;
  await plane.close();
  await new Docker()
    .getImage(
      `drover-artifact:${(await plane.daemon.engine.history('web', 'image').catch(() => []))[0]?.id ?? 'none'}`,
    )
    .remove({ force: true })
    .catch(() => undefined);
}, 60_000);

describe.skipIf(!available)('the Docker example, end to end', () => {
  it('builds the image, runs two containers behind the proxy, limits them', async () => {
    const result = await plane.apply();
    expect(result.status, result.error).toBe('converged');
    const reply = await get(plane.proxyPort, '/cgi-bin/greeting', 'docker.localhost');
    expect(reply.body).toMatch(/^Hello from busybox \(instance web-[0-9a-f]{10}\)\n$/);
    const instances = await plane.daemon.engine.instances({ stack: 'web' });
    expect(instances).toHaveLength(2);
    expect(
      instances.every((i) => i.runtime === 'docker' && i.container !== undefined && i.serving),
    ).toBe(true);
    const info = await new Docker().getContainer(instances[0]?.container ?? '').inspect();
    expect(info.HostConfig.Memory).toBe(32 * 2 ** 20);
    expect(info.HostConfig.NetworkMode).toBe('host');
  });

  it('replaces a SIGKILLed container under load with no failed request', async () => {
    const docker = new Docker();
    const traffic = load(plane.proxyPort, 4, 'docker.localhost', '/healthz');
    const before = await plane.daemon.engine.instances({ stack: 'web' });
    const victim = before[0];
    await docker.getContainer(victim?.container ?? '').kill({ signal: 'SIGKILL' });
    await until(
      'the killed container to be replaced',
      async () => {
        const now = await plane.daemon.engine.instances({ stack: 'web' });
        return (
          now.length === 2 && now.every((i) => i.serving) && !now.some((i) => i.id === victim?.id)
        );
      },
      30_000,
    );
    const { ok, failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    // The dead container is removed, not left behind.
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`drover.instance=${victim?.id}`] },
    });
    expect(left).toEqual([]);
  }, 60_000);

  it('reports a file changed inside a container through docker exec, naming the file', async () => {
    const [target] = await plane.daemon.engine.instances({ stack: 'web' });
    expect((await plane.daemon.engine.drift()).instances).toEqual([]);
    execFileSync('docker', [
      'exec',
      target?.container ?? '',
      '/bin/busybox',
      'sh',
      '-c',
      'echo changed by hand > /www/index.html',
    ]);
    const report = await plane.daemon.engine.drift();
    expect(report.instances.map((f) => f.instance)).toEqual([target?.id]);
    expect(report.instances[0]?.changes).toContainEqual({
      field: 'file',
      path: '/www/index.html',
      kind: 'changed',
    });
  }, 30_000);

  it('rolls out a new revision with no failed request, then is destroyed', async () => {
    const traffic = load(plane.proxyPort, 4, 'docker.localhost', '/healthz');
    const result = await plane.apply({ greeting: 'Hallo' });
    const { ok, failures } = await traffic.stop();
    expect(ok).toBeGreaterThan(10);
    expect(failures).toEqual([]);
    expect(result.status, result.error).toBe('converged');
    expect((await get(plane.proxyPort, '/cgi-bin/greeting', 'docker.localhost')).body).toMatch(
      /^Hallo /,
    );
    expect((await plane.daemon.engine.destroy('web', 'test')).status).toBe('converged');
    const left = await new Docker().listContainers({
      all: true,
      filters: { label: ['drover.stack=web'] },
    });
    expect(left.filter((c) => (c.Labels['drover.instance'] ?? '').startsWith('web-'))).toEqual([]);
  }, 120_000);
});
