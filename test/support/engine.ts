import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Daemon } from '../../src/engine/daemon.js';
import type { ReconcilerOptions } from '../../src/engine/reconciler.js';
import type { ApplyResult, EngineEvent } from '../../src/engine/types.js';

/** A home, a copy of the test web app, and a daemon on ephemeral ports. */
export interface TestPlane {
  readonly home: string;
  readonly dir: string;
  readonly daemon: Daemon;
  readonly proxyPort: number;
  apply(params?: Record<string, string>, events?: EngineEvent[]): Promise<ApplyResult>;
  restart(): Promise<Daemon>;
  close(): Promise<void>;
}

export function copyWebapp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-webapp-'));
  cpSync(new URL('../fixtures/webapp', import.meta.url).pathname, dir, { recursive: true });
  return dir;
}

export async function startPlane(
  options: {
    home?: string;
    dir?: string;
    drainTimeoutMs?: number;
    now?: () => Date;
    reconcile?: ReconcilerOptions;
  } = {},
): Promise<TestPlane> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'drover-home-'));
  const dir = options.dir ?? copyWebapp();
  const start = (): Promise<Daemon> =>
    Daemon.start({
      home,
      proxy: { host: '127.0.0.1', port: 0 },
      readyTimeoutMs: 15_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 5000,
      onWarning: () => undefined,
      ...(options.now ? { now: options.now } : {}),
      ...(options.reconcile ? { reconcile: options.reconcile } : {}),
    });
  let daemon = await start();
  const plane: TestPlane = {
    home,
    dir,
    get daemon() {
      return daemon;
    },
    get proxyPort() {
      return Number(new URL(daemon.proxyUrl).port);
    },
    apply: (params = {}, events) =>
      daemon.engine.apply(
        {
          file: join(dir, 'stack.yaml'),
          stack: 'web',
          parameters: Object.entries(params).map(([name, value]) => ({
            name,
            value,
            fromText: true,
            source: '-p',
          })),
          who: 'test',
        },
        (e) => events?.push(e),
      ),
    restart: async () => {
      await daemon.close();
      daemon = await start();
      return daemon;
    },
    close: async () => {
      // No heal may start what the loop below stops.
      await daemon.reconciler.close();
      for (const i of await daemon.engine.instances()) {
        const runtime = await daemon.runtime(i.runtime);
        if (i.handle) await runtime.stop(i.handle, { graceMs: 1000 }).catch(() => undefined);
      }
      await daemon.close();
      rmSync(home, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return plane;
}

export interface Reply {
  readonly status: number;
  readonly body: string;
}

export function get(
  port: number,
  path = '/',
  host = 'web.localhost',
  agent?: Agent,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host }, agent: agent ?? false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Constant load through the proxy until stopped: counts every answer and every failure. */
export function load(
  port: number,
  concurrency = 8,
  host = 'web.localhost',
  path = '/',
): { stop(): Promise<{ ok: number; failures: string[]; bodies: Map<string, number> }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const bodies = new Map<string, number>();
  const worker = async (): Promise<void> => {
    while (running) {
      try {
        const reply = await get(port, path, host, agent);
        if (reply.status >= 200 && reply.status < 300) {
          ok++;
          bodies.set(reply.body.trim(), (bodies.get(reply.body.trim()) ?? 0) + 1);
        } else failures.push(`${reply.status}: ${reply.body.trim()}`);
      } catch (error) {
        failures.push(String(error));
      }
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return { ok, failures, bodies };
    },
  };
}
