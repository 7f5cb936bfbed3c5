// bench/deploy: orchestration overhead of a blue-green deploy of a 3-replica service
// (apply → all traffic on the new revision, minus the app's own start-to-healthy time),
// and rollback time with the previous set still warm; p50/p95 over 10 deploys.
// Run: npm run bench:deploy
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { Daemon } from '../src/engine/daemon.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 10);
const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ??
  NaN;

function get(port: number, path: string, host: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(res.statusCode === 200 ? body : `status ${res.statusCode}`));
      },
    );
    req.on('error', () => resolve('error'));
    req.end();
  });
}

/** Polls until `path` answers `expected`; resolves with the time it first did. */
async function firstAnswer(port: number, host: string, expected: string): Promise<number> {
  for (;;) {
    if ((await get(port, '/', host)) === expected) return performance.now();
    await sleep(1);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'drover-bench-deploy-'));
cpSync(new URL('../test/fixtures/webapp', import.meta.url).pathname, dir, { recursive: true });
writeFileSync(
  join(dir, 'stack.yaml'),
  `drover_template_version: 2026-11-21
parameters:
  version: { type: string }
resources:
  app: { type: Drover::Artifact, properties: { context: . } }
  web:
    type: Drover::Service
    properties:
      artifact: { get_resource: app }
      command: [node, server.js]
      replicas: 3
      env: { VERSION: { get_param: version } }
      health: { http: /healthz, interval: 20ms }
      deploy: { strategy: blue-green, keep_previous: 10m }
  route: { type: Drover::Route, properties: { host: bench.localhost, service: { get_resource: web } } }
`,
);

// The app's own start-to-healthy time, measured the same way, without Drover: one
// instance alone, and the set of 3 started at once (what a blue-green deploy waits
// for; on a small machine 3 starting processes share the cores).
async function startApps(count: number, basePort: number): Promise<number> {
  const t0 = performance.now();
  const children = Array.from({ length: count }, (_, k) =>
    spawn(process.execPath, ['server.js'], {
      cwd: dir,
      env: { ...process.env, PORT: String(basePort + k), VERSION: 'x' },
      stdio: 'ignore',
    }),
  );
  await Promise.all(
    children.map(async (_, k) => {
      while ((await get(basePort + k, '/healthz', 'x')) !== 'ok') await sleep(1);
    }),
  );
  const took = performance.now() - t0;
  for (const child of children) child.kill('SIGTERM');
  await sleep(50);
  return took;
}
const appStart: number[] = [];
const setStart: number[] = [];
for (let i = 0; i < RUNS; i++) {
  appStart.push(await startApps(1, 27000 + i * 4));
  setStart.push(await startApps(3, 27100 + i * 4));
}

const home = mkdtempSync(join(tmpdir(), 'drover-bench-home-'));
const daemon = await Daemon.start({
  home,
  proxy: { host: '127.0.0.1', port: 0 },
  onWarning: () => undefined,
});
const port = Number(new URL(daemon.proxyUrl).port);
const apply = (version: string) =>
  daemon.engine.apply({
    file: join(dir, 'stack.yaml'),
    stack: 'bench',
    parameters: [{ name: 'version', value: version, fromText: true, source: '-p' }],
    who: 'bench',
  });
await apply('0');

const deployTotal: number[] = [];
const switchAt: number[] = [];
const rollbackSwitch: number[] = [];
const rollbackTotal: number[] = [];
for (let i = 1; i <= RUNS; i++) {
  const t0 = performance.now();
  const seen = firstAnswer(port, 'bench.localhost', `version ${i}\n`);
  const result = await apply(String(i));
  if (result.status !== 'converged') throw new Error(result.error);
  const t1 = performance.now();
  switchAt.push((await seen) - t0);
  deployTotal.push(t1 - t0);
  // Roll back while the previous set is kept warm, then forward again for the next round.
  const r0 = performance.now();
  const back = firstAnswer(port, 'bench.localhost', `version ${i - 1}\n`);
  const rolled = await daemon.engine.rollbackService('bench', 'web', { who: 'bench' });
  if (rolled.status !== 'converged') throw new Error(rolled.error);
  rollbackTotal.push(performance.now() - r0);
  rollbackSwitch.push((await back) - r0);
  await daemon.engine.rollbackService('bench', 'web', { who: 'bench' });
}

const app50 = percentile(appStart, 50);
const set50 = percentile(setStart, 50);
const row = (label: string, xs: number[], minus = 0): void =>
  console.log(
    `${label.padEnd(48)} p50 ${(percentile(xs, 50) - minus).toFixed(0).padStart(5)}   p95 ${(percentile(xs, 95) - minus).toFixed(0).padStart(5)}`,
  );
console.log(
  `bench/deploy: blue-green, 3 replicas, ${RUNS} deploys; health checks every 20 ms; milliseconds`,
);
console.log('');
row('app start-to-healthy, one instance alone', appStart);
row('app start-to-healthy, 3 started at once (peer)', setStart);
row('apply → all traffic on the new revision', switchAt);
row('  overhead (minus the 3-at-once peer p50)', switchAt, set50);
row('  overhead (minus the one-instance p50)', switchAt, app50);
row('apply call, start to return', deployTotal);
row('rollback → traffic on the previous revision', rollbackSwitch);
row('rollback call, start to return', rollbackTotal);
console.log('');
console.log(
  'targets: overhead <= 300 ms, rollback <= 100 ms (kamal-proxy polls health every second; Swarm monitors each task 5 s)',
);

for (const i of await daemon.engine.instances()) {
  if (i.handle) await (await daemon.runtime(i.runtime)).stop(i.handle, { graceMs: 1000 });
}
await daemon.close();
rmSync(home, { recursive: true, force: true });
rmSync(dir, { recursive: true, force: true });
