import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import type { HealthCheckSpec, HealthResult } from './health.js';
import { HealthMonitor, probeFor } from './health.js';
import type { ExecResult, InstanceHandle, Runtime } from './runtime.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function base(extra: Partial<HealthCheckSpec>): HealthCheckSpec {
  return {
    interval: 20,
    timeout: 200,
    healthy_threshold: 1,
    unhealthy_threshold: 2,
    start_period: 0,
    ...extra,
  };
}

/** A real HTTP server on port 0 whose answer the test sets. */
async function server(): Promise<{
  port: number;
  set: (status: number) => void;
  hang: (on: boolean) => void;
}> {
  let status = 503;
  let hanging = false;
  const s = createServer((req, res) => {
    if (hanging) return;
    res.writeHead(req.url === '/healthz' ? status : 404).end();
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    s.closeAllConnections();
    s.close();
  });
  return {
    port: (s.address() as AddressInfo).port,
    set: (n) => (status = n),
    hang: (on) => (hanging = on),
  };
}

/** HTTP and TCP checks never run commands. */
const noExec: Pick<Runtime, 'exec'> = {
  exec: () => Promise.reject(new Error('not used')),
};

const handle = (port: number): InstanceHandle => ({
  runtime: 'process',
  id: 'i1',
  port,
  startedAt: '',
});

async function until(
  monitor: HealthMonitor,
  predicate: (r: HealthResult) => boolean,
): Promise<HealthResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    for await (const r of monitor.results(controller.signal)) if (predicate(r)) return r;
    throw new Error('no such result');
  } finally {
    clearTimeout(timer);
  }
}

describe('health checks', () => {
  it('http: starting → healthy on a 2xx, unhealthy after the threshold of failures, healthy again', async () => {
    const s = await server();
    const spec = base({ http: { path: '/healthz' } });
    const monitor = new HealthMonitor('i1', probeFor(noExec, handle(s.port), spec), spec);
    closers.push(() => monitor.stop());
    expect(monitor.current).toBe('starting');
    s.set(200);
    expect(await monitor.ready({ timeoutMs: 5000 })).toBe(true);
    s.set(500);
    const bad = await until(monitor, (r) => r.state === 'unhealthy');
    expect(bad.detail).toBe('HTTP 500');
    s.set(204);
    await until(monitor, (r) => r.state === 'healthy');
  });

  it('http: an expected status other than 2xx, and a timeout', async () => {
    const s = await server();
    s.set(418);
    const spec = base({ http: { path: '/healthz', status: 418 }, timeout: 100 });
    const monitor = new HealthMonitor('i1', probeFor(noExec, handle(s.port), spec), spec);
    closers.push(() => monitor.stop());
    expect(await monitor.ready({ timeoutMs: 5000 })).toBe(true);
    s.hang(true);
    const slow = await until(monitor, (r) => !r.ok);
    expect(slow.detail).toContain('no answer in 100 ms');
  });

  it('tcp: healthy while the port accepts connections', async () => {
    const tcp = createTcpServer((socket) => socket.end());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as AddressInfo).port;
    const spec = base({ tcp: true });
    const monitor = new HealthMonitor('i1', probeFor(noExec, handle(port), spec), spec);
    closers.push(() => monitor.stop());
    expect(await monitor.ready({ timeoutMs: 5000 })).toBe(true);
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    const down = await until(monitor, (r) => r.state === 'unhealthy');
    expect(down.ok).toBe(false);
  });

  it('exec: the exit code of a command run in the instance decides', async () => {
    let code = 1;
    const runtime = {
      exec: async (): Promise<ExecResult> => ({
        exitCode: code,
        output: 'not yet',
        timedOut: false,
      }),
    };
    const spec = base({ exec: ['check'] });
    const monitor = new HealthMonitor('i1', probeFor(runtime, handle(1), spec), spec);
    closers.push(() => monitor.stop());
    const failed = await until(monitor, (r) => !r.ok);
    expect(failed.detail).toBe('exit 1: not yet');
    code = 0;
    expect(await monitor.ready({ timeoutMs: 5000 })).toBe(true);
  });

  it('failures during the start period do not make an instance unhealthy', async () => {
    const s = await server();
    const spec = base({ http: { path: '/healthz' }, start_period: 300, unhealthy_threshold: 1 });
    const monitor = new HealthMonitor('i1', probeFor(noExec, handle(s.port), spec), spec);
    closers.push(() => monitor.stop());
    const early = await until(monitor, (r) => !r.ok);
    expect(early.state).toBe('starting');
    const late = await until(monitor, (r) => r.state === 'unhealthy');
    expect(late.ok).toBe(false);
  });

  it('needs healthy_threshold passes in a row before an instance is ready', async () => {
    const s = await server();
    s.set(200);
    const spec = base({ http: { path: '/healthz' }, healthy_threshold: 3 });
    const monitor = new HealthMonitor('i1', probeFor(noExec, handle(s.port), spec), spec);
    closers.push(() => monitor.stop());
    const results: HealthResult[] = [];
    const controller = new AbortController();
    const collecting = (async () => {
      for await (const r of monitor.results(controller.signal)) {
        results.push(r);
        if (r.state === 'healthy') break;
      }
    })();
    await collecting;
    controller.abort();
    expect(results.map((r) => r.state)).toEqual(['starting', 'starting', 'healthy']);
  });
});
