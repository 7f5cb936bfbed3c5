// bench/heal: what healing costs, and what a drift scan costs.
// 1. For each runtime driver, KILLS SIGKILLs of the one instance of a service, each timed from
//    the kill to a fresh instance of the same revision answering through the proxy, against
//    the app's own start to healthy in the same run (the same app started by hand, polled at
//    the service's health-check interval); where the time goes comes from the recorded events.
//    The reconcile loop runs with failureWindowMs: 1, so every kill is a first failure: this
//    measures what one kill costs, not the backoff between repeated ones.
// 2. A full drift scan (`engine.drift()`) over 200 instances of busybox httpd on the process
//    runtime, clean and with one file edited in one instance's copy, against sha256sum of the
//    same files; then a pass over a few instances whose command execs another program.
// Run: npm run bench:heal   (root for the process runtime's isolation; dockerd for the Docker line)
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import Docker from 'dockerode';

import { Daemon } from '../src/engine/daemon.js';
import type { EngineEvent, InstanceInfo } from '../src/engine/types.js';
import { describeChange } from '../src/reconcile/index.js';
import { createDockerRuntime, portIsFree, ProcessRuntime } from '../src/runtime/index.js';

const run = promisify(execFile);
const KILLS = Number(process.env['BENCH_KILLS'] ?? 20);
const MANY = Number(process.env['BENCH_DRIFT_INSTANCES'] ?? 200);
/** Instances started per apply while growing to MANY (see the drift section for why). */
const STEP = Number(process.env['BENCH_DRIFT_STEP'] ?? 10);
const EXECS = Number(process.env['BENCH_EXEC_INSTANCES'] ?? 20);
/** The services' health-check interval, and the interval the peers are polled at. */
const HEALTH_MS = 50;

const percentile = (xs: readonly number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ??
  NaN;
/** Wall-clock milliseconds, finer than Date.now(), comparable with the events' `at`. */
const wall = (): number => performance.timeOrigin + performance.now();
const ms = (x: number): string => x.toFixed(0).padStart(6);

function status(port: number, path: string, host = 'localhost'): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

let nextPort = 31000; // above Drover's instance range (21000–29999)
async function freePort(): Promise<number> {
  while (!(await portIsFree(nextPort))) nextPort++;
  return nextPort++;
}

const home = mkdtempSync(join(tmpdir(), 'drover-bench-heal-home-'));
const temps: string[] = [home];
function tempDir(prefix: string, from?: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  if (from !== undefined) cpSync(new URL(from, import.meta.url).pathname, dir, { recursive: true });
  return dir;
}

const daemon = await Daemon.start({
  home,
  proxy: { host: '127.0.0.1', port: 0 },
  readyTimeoutMs: 120_000,
  drainTimeoutMs: 2000,
  onWarning: () => undefined,
  reconcile: { intervalMs: 2000, driftIntervalMs: 3_600_000, failureWindowMs: 1 },
});
const stacks = new Set<string>();
let dockerImage: string | undefined;

async function apply(stack: string, file: string, replicas?: number): Promise<void> {
  stacks.add(stack);
  const result = await daemon.engine.apply({
    file,
    stack,
    parameters:
      replicas === undefined
        ? []
        : [{ name: 'replicas', value: String(replicas), fromText: true, source: '-p' }],
    who: 'bench',
  });
  if (result.status !== 'converged') throw new Error(`${stack}: ${result.error}`);
}

async function destroy(stack: string): Promise<void> {
  const result = await daemon.engine.destroy(stack, 'bench');
  if (result.status === 'failed') throw new Error(`destroy ${stack}: ${result.error}`);
  stacks.delete(stack);
}

/** A stack of one service with one replica behind a route. */
function single(dir: string, host: string, artifact: string, command?: string): string {
  const file = join(dir, 'stack.yaml');
  writeFileSync(
    file,
    `drover_template_version: 2026-11-21
resources:
  app: { type: Drover::Artifact, properties: { ${artifact} } }
  web:
    type: Drover::Service
    properties:
      artifact: { get_resource: app }
${command === undefined ? '' : `      command: ${command}\n`}      replicas: 1
      health: { http: /healthz, interval: ${HEALTH_MS}ms }
      stop_grace: 2s
  route: { type: Drover::Route, properties: { host: ${host}, service: { get_resource: web } } }
`,
  );
  return file;
}

// ---- healing ------------------------------------------------------------------------------

/** One kill, in ms: the whole, then its parts as the recorded events date them. */
interface Heal {
  /** Kill → the replacement answers through the proxy. */
  readonly total: number;
  readonly toStart: number;
  readonly toHealthy: number;
  readonly toRegistered: number;
  readonly toServing: number;
  /** What the reconciler itself reports (instance.healed data.ms). */
  readonly healMs: number;
}

async function killOnce(
  stack: string,
  host: string,
  kill: (victim: InstanceInfo) => Promise<void>,
): Promise<Heal> {
  let only: InstanceInfo | undefined;
  while (only === undefined) {
    const list = await daemon.engine.instances({ stack });
    if (list.length === 1 && list[0]?.state === 'running' && list[0].serving) only = list[0];
    else await sleep(10);
  }
  const victim = only;
  const proxyPort = Number(new URL(daemon.proxyUrl).port);
  const t0 = wall();
  await kill(victim);
  let fresh: InstanceInfo | undefined;
  while (fresh === undefined) {
    if ((await status(proxyPort, '/healthz', host)) === 200)
      fresh = (await daemon.engine.instances({ stack })).find(
        (i) => i.id !== victim.id && i.state === 'running' && i.serving,
      );
    else await sleep(2);
  }
  const total = wall() - t0;
  const id = fresh.id;
  const event = async (test: (e: { type: string; phase?: string }) => boolean) => {
    for (;;) {
      for await (const e of daemon.engine.events({ stack }))
        if (e.data?.['instance'] === id && test(e)) return { at: Date.parse(e.at), data: e.data };
      await sleep(10);
    }
  };
  const started = (await event((e) => e.phase === 'starting')).at;
  const healthy = (await event((e) => e.phase === 'healthy')).at;
  const healed = await event((e) => e.type === 'instance.healed');
  return {
    total,
    toStart: started - t0,
    toHealthy: healthy - started,
    toRegistered: healed.at - healthy,
    toServing: t0 + total - healed.at,
    healMs: Number(healed.data['ms']),
  };
}

/** The app's own start to healthy: `start` runs it on a port and says how to stop it. */
async function appStart(
  start: (port: number) => Promise<() => Promise<unknown>>,
  everyMs: number,
): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const stop = await start(port);
  while ((await status(port, '/healthz')) !== 200) await sleep(everyMs);
  const took = performance.now() - t0;
  await stop();
  return took;
}

interface Line {
  readonly name: string;
  readonly peer: number[];
  readonly peerTight: number[];
  readonly heals: Heal[];
}

async function measureHealing(
  name: string,
  stack: string,
  file: string,
  host: string,
  start: (port: number) => Promise<() => Promise<unknown>>,
  kill: (victim: InstanceInfo) => Promise<void>,
): Promise<Line> {
  await apply(stack, file);
  const line: Line = { name, peer: [], peerTight: [], heals: [] };
  // Interleaved, so that whatever else the machine does weighs on the peer as on the heals.
  for (let i = 0; i < KILLS; i++) {
    line.peer.push(await appStart(start, HEALTH_MS));
    line.peerTight.push(await appStart(start, 2));
    line.heals.push(await killOnce(stack, host, kill));
    await sleep(100); // the victim's records go before the next round
  }
  await destroy(stack);
  const row = (label: string, xs: readonly number[]): void =>
    console.log(`  ${label.padEnd(60)}${ms(percentile(xs, 50))}${ms(percentile(xs, 95))}`);
  const of = (k: keyof Heal): number[] => line.heals.map((h) => h[k]);
  const peer50 = percentile(line.peer, 50);
  console.log(`${name.padEnd(62)}   p50   p95`);
  row(`app's own start to healthy, polled every ${HEALTH_MS} ms (peer)`, line.peer);
  row(`app's own start to healthy, polled every 2 ms`, line.peerTight);
  row('kill → replacement answers through the proxy', of('total'));
  row(
    `  added by Drover (minus the peer's p50)`,
    of('total').map((t) => t - peer50),
  );
  row('  kill → replacement starting (exit noticed, pass decided)', of('toStart'));
  row('  starting → healthy (start, health checks, drift baseline)', of('toHealthy'));
  row('  healthy → registered (instance.healed recorded)', of('toRegistered'));
  row('  registered → answers through the proxy', of('toServing'));
  row('  instance.healed data.ms (its own start → registered)', of('healMs'));
  console.log(
    `  ratio of the p50s to the peer: ${(percentile(of('total'), 50) / peer50).toFixed(2)}x`,
  );
  console.log('');
  return line;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

// ---- drift --------------------------------------------------------------------------------

/**
 * A service of busybox httpd instances (a few MB each, where the node test app takes 40).
 * busybox httpd takes its port as an argument, so a shell reads PORT; `exec` makes the shell
 * replace itself by httpd, without it the shell stays the instance's main process. Health
 * checks every 5 s (kubelet's default period is 10 s): with hundreds of instances starting
 * and stopping on two cores, 1 s checks time out and healthy instances get replaced.
 */
function busyboxStack(dir: string, name: string, script: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `drover_template_version: 2026-11-21
parameters:
  replicas: { type: number }
resources:
  site: { type: Drover::Artifact, properties: { context: . } }
  ${name}:
    type: Drover::Service
    properties:
      artifact: { get_resource: site }
      command: [/bin/busybox, sh, -c, '${script}']
      replicas: { get_param: replicas }
      health: { http: /healthz, interval: 5s, timeout: 3s }
      stop_grace: 2s
`,
  );
  return file;
}

/** Until the stack runs exactly `n` serving instances, at two looks half a second apart. */
async function settled(stack: string, n: number): Promise<void> {
  for (let calm = 0; calm < 2;) {
    await sleep(500);
    const list = await daemon.engine.instances({ stack });
    const steady = list.length === n && list.every((i) => i.state === 'running' && i.serving);
    calm = steady ? calm + 1 : 0;
  }
}

interface Drift {
  readonly ms: number;
  readonly scanned: number;
  /** Findings, for people. */
  readonly found: string[];
}

async function timedDrift(stack?: string): Promise<Drift> {
  const t0 = performance.now();
  const report = await daemon.engine.drift(stack === undefined ? {} : { stack });
  return {
    ms: performance.now() - t0,
    scanned: report.scanned,
    found: report.instances.map(
      (f) => `${f.instance}: ${f.changes.map(describeChange).join(', ')}`,
    ),
  };
}

/** Applies `file` with replicas going STEP at a time from `from` to `to`, each step settled. */
async function resize(stack: string, file: string, from: number, to: number): Promise<void> {
  for (let n = from; n !== to;) {
    n = from < to ? Math.min(n + STEP, to) : Math.max(n - STEP, to);
    await apply(stack, file, n);
    await settled(stack, n);
  }
}

// ---- the run ------------------------------------------------------------------------------

let cleaning: Promise<void> | undefined;
/** Stacks, instances (one at a time, for the reason given at the drift section), image, dirs. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const i of await daemon.engine.instances()) {
      const runtime = await daemon.runtime(i.runtime);
      if (i.handle) await runtime.stop(i.handle, { graceMs: 1000 }).catch(() => undefined);
    }
    for (const stack of stacks) await daemon.engine.destroy(stack, 'bench').catch(() => undefined);
    await daemon.close();
    if (dockerImage !== undefined)
      await new Docker()
        .getImage(dockerImage)
        .remove({ force: true })
        .catch(() => undefined);
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}
// Interrupted, it still leaves nothing running (instances outlive the daemon by design).
process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

const load = (): string => loadavg()[0]?.toFixed(1) ?? '?';
try {
  console.log(
    `bench/heal: ${KILLS} SIGKILLs per driver of a 1-replica service, health checks every ${HEALTH_MS} ms, peer runs interleaved with the kills;`,
  );
  console.log(
    `  reconcile failureWindowMs 1 (each kill heals at once: the cost of one kill, not the backoff); load average ${load()}; milliseconds`,
  );
  console.log('');
  const lines: Line[] = [];
  const processRuntime = await daemon.runtime('process');
  const isolation =
    processRuntime instanceof ProcessRuntime && processRuntime.isolation.namespaces
      ? 'namespaces+cgroups'
      : 'plain';

  // Process runtime: the test web app (node); peer: a plain spawn of it.
  const webapp = tempDir('drover-bench-heal-web-', '../test/fixtures/webapp');
  lines.push(
    await measureHealing(
      `process runtime (${isolation}), node server.js; peer: plain spawn`,
      'heal',
      single(webapp, 'heal.localhost', 'context: .', '[node, server.js]'),
      'heal.localhost',
      async (port) => {
        const child = spawn(process.execPath, ['server.js'], {
          cwd: webapp,
          env: { ...process.env, PORT: String(port) },
          stdio: 'ignore',
        });
        return () => stopChild(child);
      },
      async (victim) => void process.kill(-(victim.pid as number), 'SIGKILL'),
    ),
  );

  // Docker runtime: the docker-hello example (busybox httpd FROM scratch); peer: docker run.
  const dockerMissing = await createDockerRuntime({ home: tempDir('drover-bench-heal-probe-') })
    .then((r) => r.close())
    .then(
      () => undefined,
      (error: unknown) => (error as Error).message.split('\n')[0],
    );
  if (dockerMissing === undefined) {
    const hello = tempDir('drover-bench-heal-docker-', '../examples/docker-hello');
    copyFileSync('/bin/busybox', join(hello, 'busybox'));
    const docker = new Docker();
    lines.push(
      await measureHealing(
        'docker runtime, busybox httpd; peer: docker run -d --init --network host',
        'heal-docker',
        single(hello, 'heal-docker.localhost', 'context: ., dockerfile: Dockerfile'),
        'heal-docker.localhost',
        async (port) => {
          dockerImage ??= `drover-artifact:${(await daemon.engine.history('heal-docker', 'app'))[0]?.id}`;
          const argv = ['run', '-d', '--init', '--network', 'host', '-e', `PORT=${port}`];
          const { stdout } = await run('docker', [...argv, dockerImage]);
          return () => run('docker', ['rm', '-f', stdout.trim()]);
        },
        (victim) => docker.getContainer(victim.container as string).kill({ signal: 'SIGKILL' }),
      ),
    );
  } else {
    console.log(`docker runtime: skipped (${dockerMissing})`);
    console.log('');
  }

  // Drift. On the process runtime with namespaces, the first fingerprint of an instance (taken
  // when it becomes ready) and every stop look for its processes by reading the environment of
  // every process on the machine, all files at once: 200 instances started or stopped together
  // run out of file descriptors (EMFILE). So the service grows and shrinks STEP instances per
  // apply (a create starts all replicas at once, whatever max_surge says), each step settled:
  // after a scale-up, a reconcile pass that read the records before it and the replica count
  // after it starts the "missing" instances again, and retires the surplus later.
  const site = tempDir('drover-bench-heal-many-');
  mkdirSync(join(site, 'www'));
  writeFileSync(join(site, 'www', 'healthz'), 'ok\n');
  writeFileSync(join(site, 'www', 'index.html'), '<p>one of many</p>\n');
  const httpd = '/bin/busybox httpd -f -p 127.0.0.1:$PORT -h www';
  const manyFile = busyboxStack(site, 'many', `${httpd}; exit`);
  let t0 = performance.now();
  await resize('many', manyFile, 0, MANY);
  const growMs = performance.now() - t0;
  const churn = { healed: 0, unhealthy: 0, retired: 0 };
  for await (const e of daemon.engine.events({ stack: 'many' })) {
    if (e.type === 'instance.healed') churn.healed++;
    if (e.type === 'instance.unhealthy') churn.unhealthy++;
    if (e.type === 'instance.stopped' && e.message.includes('more than its')) churn.retired++;
  }
  const clean: Drift[] = [];
  for (let i = 0; i < 5; i++) clean.push(await timedDrift());
  const many = await daemon.engine.instances({ stack: 'many' });
  t0 = performance.now();
  const files = ['-type', 'f', '-exec', 'sha256sum', '{}', '+'];
  await run('find', [...many.map((i) => i.dir as string), ...files], { maxBuffer: 2 ** 26 });
  const sha256sumMs = performance.now() - t0;
  const edited = join(many[0]?.dir as string, 'www', 'index.html');
  chmodSync(edited, 0o644);
  writeFileSync(edited, '<p>edited by hand</p>\n');
  const dirty = await timedDrift();
  const passes = clean.map((c) => c.ms);
  const p50 = percentile(passes, 50);
  const max = Math.max(...passes);
  console.log(
    `drift scan, process runtime (${isolation}), busybox httpd under sh -c '…; exit', health checks every 5 s`,
  );
  console.log(
    `  ${MANY} instances started, ${STEP} per apply, each step settled:  ${ms(growMs)} ms   (meanwhile the reconciler started ${churn.healed} on its own, found ${churn.unhealthy} unhealthy, retired ${churn.retired} as surplus)`,
  );
  console.log(
    `  clean pass, 5 times:  p50 ${ms(p50)} ms   max ${ms(max)} ms   scanned ${[...new Set(clean.map((c) => c.scanned))].join('/')}   findings ${clean.reduce((n, c) => n + c.found.length, 0)}`,
  );
  console.log(
    `  pass after editing www/index.html in one copy:  ${ms(dirty.ms)} ms   found ${dirty.found.length} (${dirty.found.join('; ')})`,
  );
  console.log(
    `  peer: sha256sum of the same ${many.length} copies (find -exec sha256sum +):  ${ms(sha256sumMs)} ms   ratio of the pass p50 ${(p50 / sha256sumMs).toFixed(2)}x`,
  );
  await resize('many', manyFile, MANY, 0);
  await destroy('many');

  // The same with `exec`: the main process's argv is no longer the declared command.
  await apply('execs', busyboxStack(site, 'execs', `exec ${httpd}`), EXECS);
  await settled('execs', EXECS);
  const execs: Drift[] = [];
  for (let i = 0; i < 3; i++) execs.push(await timedDrift('execs'));
  await destroy('execs');
  const execP50 = percentile(
    execs.map((e) => e.ms),
    50,
  );
  console.log(
    `  ${EXECS} instances under sh -c 'exec …' instead, pass over them, 3 times: p50 ${ms(execP50)} ms   scanned ${execs[0]?.scanned}   (${(execP50 / EXECS).toFixed(1)} ms per instance against ${(p50 / MANY).toFixed(1)})`,
  );
  const failed: EngineEvent[] = [];
  for await (const e of daemon.engine.events({})) if (e.type === 'reconcile.failed') failed.push(e);
  console.log(
    `  reconcile.failed events: ${failed.length}${failed[0] ? ` (first: ${failed[0].message})` : ''}; load average ${load()}`,
  );
  console.log('');

  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const healing = lines.map((l) => {
    const added = l.heals.map((h) => h.total - percentile(l.peer, 50));
    const [a50, a95] = [percentile(added, 50), percentile(added, 95)];
    return `${l.name.split(' ')[0]} p50 ${a50.toFixed(0)} ms (${verdict(a50 <= 500)}), p95 ${a95.toFixed(0)} ms (${verdict(a95 <= 500)})`;
  });
  console.log(
    `targets: healing adds <= 500 ms beyond the app's own start (Swarm waits 5 s before restarting a task, kubelet backs off from 10 s): ${healing.join('; ')}${dockerMissing === undefined ? '' : '; docker not measured'}.`,
  );
  console.log(
    `         a drift pass over ${MANY} instances <= 1000 ms: p50 ${p50.toFixed(0)} ms, max ${max.toFixed(0)} ms (${verdict(max <= 1000)}).`,
  );
} finally {
  await cleanUp();
}
