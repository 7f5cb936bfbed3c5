// bench/proxy: throughput and CPU per request of Drover's proxy against nginx and HAProxy
// as proxies in front of the same fast backend (nginx answering 200), in one run; then the
// latency each adds at a fixed rate of 30% of nginx's capacity.
// Run: npm run bench:proxy   (needs nginx-light, haproxy and wrk from Debian)
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const CONNECTIONS = 64;
const dir = mkdtempSync(join(tmpdir(), 'drover-bench-proxy-'));
const BACKEND = 18101;
const ports = { nginx: 18102, haproxy: 18103, drover: 18104, drover2: 18105 } as const;

function nginxConf(name: string, body: string): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(
    file,
    `worker_processes 1;
daemon off;
master_process on;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}-error.log;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/${name}-body;
  proxy_temp_path ${dir}/${name}-proxy;
  ${body}
}
`,
  );
  return file;
}

const children: ChildProcess[] = [];
function start(cpu: string | undefined, argv: string[], readyLine?: string): Promise<ChildProcess> {
  const full = cpu === undefined ? argv : ['taskset', '-c', cpu, ...argv];
  const child = spawn(full[0] as string, full.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    if (readyLine === undefined) return void setTimeout(() => resolve(child), 700);
    child.stdout?.on('data', (c: Buffer) => {
      if (c.toString().includes(readyLine)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited (${code})`)));
  });
}

/** CPU seconds used so far by a process and all its descendants. */
function cpuSeconds(pid: number): number {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    try {
      const kids = readFileSync(`/proc/${tree[i]}/task/${tree[i]}/children`, 'utf8').trim();
      if (kids) tree.push(...kids.split(/\s+/).map(Number));
    } catch {
      // gone
    }
  }
  let ticks = 0;
  for (const p of tree) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

function wrk(port: number): number {
  const out = execFileSync(
    'taskset',
    ['-c', '0', 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, `http://127.0.0.1:${port}/`],
    { encoding: 'utf8' },
  );
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  if (rps === undefined) throw new Error(`wrk said:\n${out}`);
  return Number(rps);
}

/** wrk's figure with its unit ("612.00us", "1.20ms", "2.00s") in milliseconds. */
function millis(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (m === null) throw new Error(`unexpected wrk latency '${text}'`);
  const scale = { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
  return Number(m[1]) * scale;
}

/**
 * Latency at a fixed rate: wrk (C, on CPU 0, so the load generator takes
 * nothing from the proxy's core) with one request per millisecond per
 * connection, as many connections as the rate needs.
 */
function latency(port: number, connections: number): { p50: number; p99: number; rps: number } {
  const script = join(dir, 'fixed-rate.lua');
  writeFileSync(script, 'function delay() return 1 end\n');
  const out = execFileSync(
    'taskset',
    [
      '-c',
      '0',
      'wrk',
      '-t1',
      `-c${connections}`,
      `-d${SECONDS}s`,
      '--latency',
      '-s',
      script,
      `http://127.0.0.1:${port}/`,
    ],
    { encoding: 'utf8' },
  );
  const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1];
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1];
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  if (p50 === undefined || p99 === undefined || rps === undefined)
    throw new Error(`wrk said:\n${out}`);
  return { p50: millis(p50), p99: millis(p99), rps: Number(rps) };
}

interface Row {
  readonly name: string;
  readonly port: number;
  readonly pid?: number;
  rps?: number;
  cpuUs?: number;
  p50?: number;
  p99?: number;
  /** The rate the latency was measured at. */
  offered?: number;
}

try {
  await start('0', [
    'nginx',
    '-c',
    nginxConf(
      'backend',
      `server { listen 127.0.0.1:${BACKEND}; location / { return 200 'ok\\n'; } }`,
    ),
  ]);
  const nginx = await start('1', [
    'nginx',
    '-c',
    nginxConf(
      'proxy',
      `upstream be { server 127.0.0.1:${BACKEND}; keepalive 256; }
  server { listen 127.0.0.1:${ports.nginx}; location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
    ),
  ]);
  const haproxyCfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    haproxyCfg,
    `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${ports.haproxy}
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:${BACKEND}
`,
  );
  const haproxy = await start('1', ['haproxy', '-f', haproxyCfg, '-db']);
  const script = new URL('./proxy-server.mjs', import.meta.url).pathname;
  const drover = await start(
    '1',
    [process.execPath, script, String(ports.drover), String(BACKEND), '1'],
    'ready',
  );
  const drover2 = await start(
    undefined,
    [process.execPath, script, String(ports.drover2), String(BACKEND), '2'],
    'ready',
  );

  const rows: Row[] = [
    { name: 'direct (nginx backend)', port: BACKEND },
    { name: 'nginx proxy, 1 worker', port: ports.nginx, pid: nginx.pid },
    { name: 'HAProxy, 1 thread', port: ports.haproxy, pid: haproxy.pid },
    { name: 'Drover proxy, 1 process', port: ports.drover, pid: drover.pid },
    { name: 'Drover proxy, 2 workers', port: ports.drover2, pid: drover2.pid },
  ];
  for (const row of rows) {
    wrk(row.port); // warm-up (JIT, connection pools)
    const before = row.pid === undefined ? 0 : cpuSeconds(row.pid);
    row.rps = wrk(row.port);
    if (row.pid !== undefined)
      row.cpuUs = ((cpuSeconds(row.pid) - before) * 1e6) / (row.rps * SECONDS);
  }
  const nginxRow = rows[1] as Row;
  const rate = Math.round((nginxRow.rps ?? 0) * 0.3);
  // A connection waits 1 ms between a response and its next request, so it sends
  // a little under 1000 req/s: find how many connections offer the rate directly.
  const first = Math.max(1, Math.round(rate / 1000));
  const connections = Math.max(1, Math.round((first * rate) / latency(BACKEND, first).rps));
  for (const row of rows) {
    const { p50, p99, rps } = latency(row.port, connections);
    Object.assign(row, { p50, p99, offered: rps });
  }
  const direct = rows[0] as Row;

  console.log(
    `bench/proxy: backend nginx (1 worker) and wrk on CPU 0; single-process proxies pinned to CPU 1;`,
  );
  console.log(
    `throughput: wrk -t1 -c${CONNECTIONS} -d${SECONDS}s; latency: wrk on CPU 0 at ${rate} req/s (30% of nginx proxy's throughput),`,
  );
  console.log(
    `${connections} connections, each sending its next request 1 ms after a response; "+ms" is the latency added to the direct figure (direct p50 ${direct.p50?.toFixed(3)} ms, p99 ${direct.p99?.toFixed(3)} ms)`,
  );
  console.log('');
  console.log(
    `${'target'.padEnd(26)} ${'req/s'.padStart(8)} ${'vs nginx'.padStart(9)} ${'CPU µs/req'.padStart(11)} ${'vs nginx'.padStart(9)} ${'p50 +ms'.padStart(8)} ${'p99 +ms'.padStart(8)} ${'at req/s'.padStart(9)}`,
  );
  for (const row of rows) {
    const added = (v: number | undefined, d: number | undefined): string =>
      row === direct ? '-' : ((v ?? 0) - (d ?? 0)).toFixed(3);
    console.log(
      [
        row.name.padEnd(26),
        (row.rps ?? 0).toFixed(0).padStart(8),
        row === direct
          ? '-'.padStart(9)
          : `${((row.rps ?? 0) / (nginxRow.rps ?? 1)).toFixed(2)}x`.padStart(9),
        row.cpuUs === undefined ? '-'.padStart(11) : row.cpuUs.toFixed(1).padStart(11),
        row.cpuUs === undefined
          ? '-'.padStart(9)
          : `${((nginxRow.cpuUs ?? 0) / row.cpuUs).toFixed(2)}x`.padStart(9),
        added(row.p50, direct.p50).padStart(8),
        added(row.p99, direct.p99).padStart(8),
        (row.offered ?? 0).toFixed(0).padStart(9),
      ].join(' '),
    );
  }
  console.log('');
  console.log(
    '"vs nginx" for CPU is nginx µs/req ÷ this µs/req (higher is better). Targets: Drover ≥ 0.5x nginx',
  );
  console.log('throughput with one core each; p99 added latency ≤ 2 ms.');
} finally {
  for (const child of children) child.kill('SIGTERM');
  await sleep(300);
  rmSync(dir, { recursive: true, force: true });
}
