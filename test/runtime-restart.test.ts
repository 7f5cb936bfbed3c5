import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';

import { afterAll, describe, expect, it } from 'vitest';

import { eventually, httpGet } from '../src/runtime/contract.case.js';
import type { InstanceArtifact, InstanceHandle, Runtime } from '../src/runtime/index.js';
import { createDockerRuntime } from '../src/runtime/index.js';
import { writeBusyboxContext } from '../src/runtime/testing/busybox-image.js';
import { dockerForTests, removeDockerLeftovers } from '../src/runtime/testing/docker.js';
import { writeNodeWorkloads } from '../src/runtime/testing/node-workloads.js';
import { testHome } from '../src/runtime/testing/process-home.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
}, 60_000);

/** Runs the stand-in daemon, waits for its instances to answer, then kills it with SIGKILL. */
async function startThenKill(args: string[], count: number): Promise<InstanceHandle[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/fixtures/runtime-child.ts', ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const handles = await new Promise<InstanceHandle[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out) as InstanceHandle[]);
    });
    child.once('exit', (code) => reject(new Error(`the stand-in daemon exited early (${code})`)));
  });
  expect(handles).toHaveLength(count);
  for (const h of handles)
    await eventually(
      async () => (await httpGet(h.port, '/healthz')).status === 200 || undefined,
      `instance on ${h.port}`,
    );
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  return handles;
}

async function readopt(runtime: Runtime, handles: readonly InstanceHandle[]): Promise<void> {
  // Nothing died with the daemon.
  for (const [i, h] of handles.entries())
    expect(await httpGet(h.port, '/env/GREETING')).toEqual({ status: 200, body: `instance ${i}` });
  const observed = await runtime.list();
  // Each instance exactly once: none lost, none doubled.
  expect(observed.map((o) => o.handle.id).sort()).toEqual(handles.map((h) => h.id).sort());
  expect(observed.every((o) => o.state === 'running')).toBe(true);
  for (const o of observed) await runtime.stop(o.handle, { graceMs: 5000 });
  expect(await runtime.list()).toEqual([]);
  for (const h of handles) await expect(httpGet(h.port, '/healthz')).rejects.toThrow();
}

describe('a Drover process killed with SIGKILL', () => {
  it('process runtime: instances keep running and a new runtime re-adopts each exactly once', async () => {
    const home = await testHome();
    cleanup.push(() => home.cleanup());
    const workloads = writeNodeWorkloads();
    cleanup.push(() => rm(workloads, { recursive: true, force: true }));
    const runtime = await home.runtime();
    cleanup.push(() => runtime.close());
    const artifact: InstanceArtifact = await runtime.build({
      id: 'restart-workloads',
      context: workloads,
      timeoutMs: 10_000,
      who: 'test',
    });
    const handles = await startThenKill(
      [
        'process',
        home.home,
        JSON.stringify(artifact),
        JSON.stringify([process.execPath, 'server.js']),
        '3',
        '23700',
      ],
      3,
    );
    for (const [i, h] of handles.entries())
      expect(h).toMatchObject({ runtime: 'process', port: 23700 + i });
    const fresh = await home.runtime();
    cleanup.push(() => fresh.close());
    await readopt(fresh, handles);
  });

  it('docker runtime: containers keep running and a new runtime re-adopts each exactly once', async (ctx) => {
    if (!(await dockerForTests())) return ctx.skip();
    const home = await testHome();
    cleanup.push(() => home.cleanup());
    const context = await writeBusyboxContext();
    cleanup.push(() => context.remove());
    const tag = 'restart-busybox';
    cleanup.push(() => removeDockerLeftovers(home.home, [`drover-artifact:${tag}`]));
    const runtime = await createDockerRuntime({ home: home.home });
    cleanup.push(() => runtime.close());
    const artifact = await runtime.build({
      id: tag,
      context: context.dir,
      dockerfile: context.dockerfile,
      timeoutMs: 120_000,
      who: 'test',
    });
    const handles = await startThenKill(
      ['docker', home.home, JSON.stringify(artifact), 'null', '3', '23750'],
      3,
    );
    const fresh = await createDockerRuntime({ home: home.home });
    cleanup.push(() => fresh.close());
    await readopt(fresh, handles);
  });
});
