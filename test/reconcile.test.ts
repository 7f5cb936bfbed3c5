import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { builtArtifact } from '../src/engine/apply.js';
import type { InstanceInfo } from '../src/engine/types.js';
import { portIsFree } from '../src/runtime/index.js';

import type { TestPlane } from './support/engine.js';
import { get, load, startPlane } from './support/engine.js';
import { quickReconcile, until, watch } from './support/watch.js';

let plane: TestPlane;
beforeAll(async () => {
  plane = await startPlane({ reconcile: quickReconcile });
  expect((await plane.apply({ version: '1' })).status).toBe('converged');
}, 60_000);
afterAll(async () => {
  await plane.close();
}, 60_000);

const { instances: web, events, eventually, settled } = watch(() => plane);

/** Samples the number of running processes of the service until stopped; returns the largest seen. */
function sampleCount(): { stop(): Promise<number> } {
  let running = true;
  let most = 0;
  const sampling = (async () => {
    const runtime = await plane.daemon.runtime('process');
    while (running) {
      const live = (await runtime.list()).filter(
        (i) => i.state === 'running' && i.labels.stack === 'web' && i.labels.service === 'web',
      );
      most = Math.max(most, live.length);
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await sampling;
      return most;
    },
  };
}

describe('healing', () => {
  it('replaces SIGKILLed instances under load with no failed request, never above replicas + surge', async () => {
    const traffic = load(plane.proxyPort, 8);
    const counting = sampleCount();
    for (let round = 0; round < 3; round++) {
      const before = await settled();
      const victim = before[round % 2] as InstanceInfo;
      process.kill(-(victim.pid as number), 'SIGKILL');
      await until('the replacement', async () => {
        const now = await settled();
        return !now.some((i) => i.id === victim.id) && now;
      });
    }
    const most = await counting.stop();
    const { ok, failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    expect(most).toBeLessThanOrEqual(3);
    await until('three heal events', async () => (await events('instance.healed')).length >= 3);
    await eventually('instance.exited', (e) => /SIGKILL/.test(e.message));
  }, 60_000);

  it('when every instance dies at once, brings the service back without passing its replica count', async () => {
    const before = await settled();
    const counting = sampleCount();
    for (const i of before) process.kill(-(i.pid as number), 'SIGKILL');
    const after = await until('two new instances', async () => {
      const now = await settled();
      return now.every((i) => !before.some((b) => b.id === i.id)) && now;
    });
    expect(await counting.stop()).toBeLessThanOrEqual(3);
    expect(after).toHaveLength(2);
    expect((await get(plane.proxyPort)).body).toBe('version 1\n');
  }, 60_000);
});

describe('unhealthy instances', () => {
  it('replaces an instance that turns unhealthy: a fresh one first, then the sick one drains', async () => {
    const [sick] = await settled();
    const traffic = load(plane.proxyPort, 4);
    const counting = sampleCount();
    await get(sick?.port as number, '/sicken', '127.0.0.1');
    await eventually('instance.unhealthy', (e) => e.message.includes(`${sick?.id}`));
    await until('the sick instance to be replaced', async () => {
      const now = await settled();
      return !now.some((i) => i.id === sick?.id) && now;
    });
    expect(await counting.stop()).toBeLessThanOrEqual(3);
    const { ok, failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    await eventually(
      'instance.replaced',
      (e) => e.message.includes(`${sick?.id}`) && e.message.includes('unhealthy'),
    );
  }, 30_000);
});

describe('orphans', () => {
  it('stops an instance that carries Drover markers but that no record owns, and says so', async () => {
    const runtime = await plane.daemon.runtime('process');
    const built = await builtArtifact(plane.daemon.store, 'web', 'app');
    let port = 39_000 + Math.floor(Math.random() * 1000);
    while (!(await portIsFree(port))) port++;
    const rogue = await runtime.start({
      id: 'web-rogue00001',
      labels: { stack: 'web', service: 'web', revision: 'rogue', instance: 'web-rogue00001' },
      artifact: built?.artifact ?? { kind: 'snapshot', id: 'none', dir: '/nonexistent' },
      command: ['node', 'server.js'],
      env: { VERSION: 'rogue' },
      port,
    });
    await until('the rogue instance to be stopped', async () => {
      const seen = (await runtime.list()).find((i) => i.handle.id === rogue.id);
      return (seen === undefined || seen.state === 'exited') && true;
    });
    await eventually('instance.orphan', (e) => e.message.includes('web-rogue00001'));
    // What was declared is untouched.
    expect(await settled()).toHaveLength(2);
  }, 30_000);
});

describe('jobs', () => {
  it('leaves a running job alone: its attempt has markers but no instance record', async () => {
    // Its own directory: a file added to the web app's would change the web app's artifact.
    const file = join(mkdtempSync(join(tmpdir(), 'drover-jobs-')), 'jobs.yaml');
    writeFileSync(
      file,
      [
        'drover_template_version: 2026-11-21',
        'resources:',
        '  app:',
        '    type: Drover::Artifact',
        '    properties: { context: . }',
        '  slow:',
        '    type: Drover::Job',
        '    properties:',
        '      artifact: { get_resource: app }',
        // Longer than the orphan grace period of this plane (500 ms).
        '      command: [node, -e, "setTimeout(() => {}, 2000)"]',
        '',
      ].join('\n'),
    );
    const result = await plane.daemon.engine.apply({
      file,
      stack: 'jobs',
      parameters: [],
      who: 'test',
    });
    expect(result.status, result.error).toBe('converged');
    expect(await events('instance.orphan', 'jobs')).toEqual([]);
    await eventually('job.succeeded', () => true, 5000, 'jobs');
    expect((await plane.daemon.engine.destroy('jobs', 'test')).status).toBe('converged');
  }, 30_000);
});

describe('drift', () => {
  it('reports a file edited inside an instance copy, naming the file', async () => {
    const [target, other] = await settled();
    const file = join(target?.dir as string, 'server.js');
    chmodSync(file, 0o644);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n// edited by hand\n`);
    const report = await plane.daemon.engine.drift();
    expect(report.scanned).toBeGreaterThanOrEqual(2);
    expect(report.instances.map((f) => f.instance)).toEqual([target?.id]);
    expect(report.instances[0]?.changes).toEqual([
      { field: 'file', path: 'server.js', kind: 'changed' },
    ]);
    expect(report.instances.some((f) => f.instance === other?.id)).toBe(false);
    await eventually(
      'drift.detected',
      (e) => e.message.includes(`${target?.id}`) && e.message.includes('file server.js changed'),
    );
    // The default policy only reports: the drifted instance keeps running.
    await sleep(1000);
    expect((await web()).some((i) => i.id === target?.id)).toBe(true);
  }, 30_000);

  it('with drift: replace, a drifted instance is replaced by a fresh one from its revision', async () => {
    const result = await plane.apply({ version: '1', drift: 'replace' });
    expect(result.status).toBe('converged');
    const drifted = (await plane.daemon.engine.drift()).instances[0];
    expect(drifted).toBeDefined();
    const traffic = load(plane.proxyPort, 4);
    await until('the drifted instance to be replaced', async () => {
      const now = await settled();
      return !now.some((i) => i.id === drifted?.instance) && now;
    });
    const { failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect((await plane.daemon.engine.drift()).instances).toEqual([]);
    await eventually('instance.replaced', (e) => e.message.includes(`${drifted?.instance}`));
  }, 30_000);
});

describe('drift of rendered config files', () => {
  it('reports a file a config template rendered, once changed by hand', async () => {
    // The stack has no endpoints: the rendered file is empty, and that is what Drover wrote.
    const file = join(mkdtempSync(join(tmpdir(), 'drover-conf-')), 'conf.yaml');
    writeFileSync(
      file,
      [
        'drover_template_version: 2026-11-21',
        'resources:',
        '  peers:',
        '    type: Drover::ConfigTemplate',
        '    properties:',
        '      template: "{{#each endpoints}}{{port}} {{/each}}"',
        '      destination: peers.txt',
        '      debounce: 10ms',
        '',
      ].join('\n'),
    );
    const result = await plane.daemon.engine.apply({
      file,
      stack: 'conf',
      parameters: [],
      who: 'test',
    });
    expect(result.status, result.error).toBe('converged');
    const rendered = join(dirname(file), 'peers.txt');
    await until('the file to be rendered', async () => {
      try {
        return readFileSync(rendered, 'utf8') === '' || undefined;
      } catch {
        return undefined;
      }
    });
    expect((await plane.daemon.engine.drift({ stack: 'conf' })).rendered).toEqual([]);
    writeFileSync(rendered, 'edited by hand\n');
    const report = await plane.daemon.engine.drift({ stack: 'conf' });
    expect(report.rendered).toMatchObject([
      { stack: 'conf', resource: 'peers', path: rendered, kind: 'changed' },
    ]);
    await eventually('drift.detected', (e) => e.message.includes('peers.txt'), 5000, 'conf');
    expect((await plane.daemon.engine.destroy('conf', 'test')).status).toBe('converged');
  }, 30_000);
});
