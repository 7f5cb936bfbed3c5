// bench/runtime: start-to-ready and stop latency of both runtime drivers (p50/p95 over
// 20 instances), against a peer measured in the same run (a plain spawn; `docker run`),
// and the cost of an artifact build of a 50 MB context (against GNU tar and cp).
// Run: npm run bench:runtime   (needs root for the process runtime's isolation, and dockerd)
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { digestContext, openArtifactStore } from '../src/artifact/index.js';
import type { InstanceArtifact, Runtime } from '../src/runtime/index.js';
import { createDockerRuntime, createProcessRuntime } from '../src/runtime/index.js';
import { busyboxWorkloads, writeBusyboxContext } from '../src/runtime/testing/busybox-image.js';
import { writeNodeWorkloads } from '../src/runtime/testing/node-workloads.js';
import { openDefaultStore } from '../src/store/index.js';

const run = promisify(execFile);
const N = Number(process.env['BENCH_INSTANCES'] ?? 20);
let port = 26000;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function ready(p: number): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${p}/healthz`);
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(2);
  }
}

interface Figures {
  readonly startToReady: number[];
  readonly stop: number[];
}

async function measure(start: (p: number) => Promise<() => Promise<void>>): Promise<Figures> {
  const startToReady: number[] = [];
  const stops: (() => Promise<void>)[] = [];
  for (let i = 0; i < N; i++) {
    const p = port++;
    const t0 = performance.now();
    stops.push(await start(p));
    await ready(p);
    startToReady.push(performance.now() - t0);
  }
  const stop: number[] = [];
  for (const s of stops) {
    const t0 = performance.now();
    await s();
    stop.push(performance.now() - t0);
  }
  return { startToReady, stop };
}

function row(name: string, f: Figures, peer?: Figures): string {
  const cells = [
    name.padEnd(34),
    percentile(f.startToReady, 50).toFixed(0).padStart(6),
    percentile(f.startToReady, 95).toFixed(0).padStart(6),
    percentile(f.stop, 50).toFixed(0).padStart(6),
    percentile(f.stop, 95).toFixed(0).padStart(6),
  ];
  if (peer) {
    cells.push(
      `${(percentile(f.startToReady, 50) / percentile(peer.startToReady, 50)).toFixed(2)}x`.padStart(
        8,
      ),
      `${(percentile(f.stop, 50) / percentile(peer.stop, 50)).toFixed(2)}x`.padStart(8),
    );
  }
  return cells.join('  ');
}

async function viaRuntime(
  runtime: Runtime,
  artifact: InstanceArtifact,
  command: readonly string[] | undefined,
): Promise<Figures> {
  let n = 0;
  return measure(async (p) => {
    const id = `bench-${process.pid}-${n++}`;
    const handle = await runtime.start({
      id,
      labels: { stack: 'bench', service: 'web', revision: 'r', instance: id },
      artifact,
      ...(command ? { command } : {}),
      env: {},
      port: p,
    });
    return async () => {
      await runtime.stop(handle, { graceMs: 10_000 });
    };
  });
}

const home = mkdtempSync(join(tmpdir(), 'drover-bench-runtime-'));
const store = openDefaultStore(home);
const artifacts = openArtifactStore({ home, store });
const workloads = writeNodeWorkloads();

console.log(`bench/runtime: ${N} instances per line, sequential; milliseconds`);
console.log('');
console.log(`${'driver'.padEnd(34)}  ready p50  p95  stop p50  p95  ready/peer  stop/peer`);

// Process runtime, and a plain spawn of the same server as its peer.
const processRuntime = await createProcessRuntime({
  home,
  snapshots: artifacts,
  onWarning: () => undefined,
});
const nodeArtifact = await processRuntime.build({
  id: 'bench-node',
  context: workloads,
  timeoutMs: 60_000,
  who: 'bench',
});
const plainSpawn = await measure(async (p) => {
  const child = spawn(process.execPath, ['server.js'], {
    cwd: workloads,
    env: { ...process.env, PORT: String(p) },
    stdio: 'ignore',
  });
  return () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
});
console.log(row('peer: plain spawn (node server)', plainSpawn));
const isolation = processRuntime.isolation.namespaces ? 'namespaces+cgroups' : 'plain';
console.log(
  row(
    `drover process (${isolation})`,
    await viaRuntime(processRuntime, nodeArtifact, [process.execPath, 'server.js']),
    plainSpawn,
  ),
);
await processRuntime.close();

// Docker runtime, and the docker CLI as its peer.
try {
  const dockerRuntime = await createDockerRuntime({ home });
  const context = await writeBusyboxContext();
  const image = await dockerRuntime.build({
    id: 'bench-busybox',
    context: context.dir,
    dockerfile: context.dockerfile,
    timeoutMs: 120_000,
    who: 'bench',
  });
  const server = busyboxWorkloads(image).server;
  if (image.kind !== 'image') throw new Error('expected an image');
  const cli = await measure(async (p) => {
    const { stdout } = await run('docker', [
      'run',
      '-d',
      '--network',
      'host',
      '--init',
      '-e',
      `PORT=${p}`,
      image.image,
    ]);
    const id = stdout.trim();
    return async () => {
      await run('docker', ['stop', '-t', '10', id]);
      await run('docker', ['rm', id]);
    };
  });
  console.log(row('peer: docker CLI run/stop+rm', cli));
  console.log(
    row('drover docker', await viaRuntime(dockerRuntime, server.artifact, server.command), cli),
  );
  await dockerRuntime.close();
  await context.remove();
  await run('docker', ['rmi', '-f', 'drover-artifact:bench-busybox']).catch(() => undefined);
} catch (error) {
  console.log(`drover docker: not measured (${(error as Error).message.split('\n')[0]})`);
}

// Artifact build of a 50 MB context: 500 files of 100 KB of random bytes.
const context = mkdtempSync(join(tmpdir(), 'drover-bench-context-'));
for (let d = 0; d < 10; d++) {
  mkdirSync(join(context, `dir${d}`));
  for (let f = 0; f < 50; f++)
    writeFileSync(join(context, `dir${d}`, `file${f}.bin`), randomBytes(100 * 1024));
}
const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
const digestMs = await time(() => digestContext(context));
const buildMs = await time(() =>
  artifacts.ensureSnapshot({ id: 'bench-50mb', context, timeoutMs: 120_000, who: 'bench' }),
);
const cachedMs = await time(() =>
  artifacts.ensureSnapshot({ id: 'bench-50mb', context, timeoutMs: 120_000, who: 'bench' }),
);
const instanceDir = join(home, 'materialized');
const materializeMs = await time(() => artifacts.materialize('bench-50mb', instanceDir));
const tarMs = await time(() => run('tar', ['-cf', join(home, 'peer.tar'), '-C', context, '.']));
const cpMs = await time(() => run('cp', ['-r', context, join(home, 'peer-copy')]));
console.log('');
console.log('artifact of a 50 MB context (500 files)                 ms   peer');
console.log(
  `  digest (what a plan computes)                    ${digestMs.toFixed(0).padStart(6)}   GNU tar -cf ${tarMs.toFixed(0)} ms (${(digestMs / tarMs).toFixed(2)}x)`,
);
console.log(
  `  build: canonical archive, store, unpack           ${buildMs.toFixed(0).padStart(6)}`,
);
console.log(
  `  same inputs again (no rebuild)                   ${cachedMs.toFixed(0).padStart(6)}`,
);
console.log(
  `  fresh read-only copy for an instance             ${materializeMs.toFixed(0).padStart(6)}   cp -r ${cpMs.toFixed(0)} ms (${(materializeMs / cpMs).toFixed(2)}x)`,
);

await artifacts.close();
await store.close();
rmSync(context, { recursive: true, force: true });
rmSync(home, { recursive: true, force: true });
rmSync(workloads, { recursive: true, force: true });
