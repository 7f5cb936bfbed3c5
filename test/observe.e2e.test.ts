import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { TokenStore } from '../src/api/index.js';
import type { ControlPlane } from '../src/cli/control-plane.js';
import { startControlPlane } from '../src/cli/control-plane.js';
import { runCli } from '../src/cli/testing.js';
import { createDaemonLog } from '../src/observe/index.js';
import { parseExposition, total } from '../src/observe/testing/exposition.js';

import { copyWebapp, get } from './support/engine.js';

const loopback = { host: '127.0.0.1', port: 0 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDirs(): { home: string; dir: string } {
  const home = mkdtempSync(join(tmpdir(), 'drover-observe-'));
  const dir = copyWebapp();
  cleanups.push(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  return { home, dir };
}

/** Stops what a stack runs: a control plane on the home, then destroy. */
async function destroyAll(plane: ControlPlane): Promise<void> {
  for (const s of await plane.daemon.engine.stacks())
    await plane.daemon.engine.destroy(s.stack, 'test');
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('GET /metrics on a real daemon', () => {
  it('tells applies, proxied requests, heals and instances; a viewer token is needed', async () => {
    const { home, dir } = tempDirs();
    const logged = new PassThrough();
    let logText = '';
    logged.on('data', (chunk: Buffer) => (logText += chunk.toString()));
    const log = createDaemonLog({ level: 'debug', to: logged });
    const plane = await startControlPlane({
      home,
      proxy: loopback,
      api: loopback,
      log: log.logger,
    });
    cleanups.push(async () => {
      await destroyAll(plane);
      await plane.close();
    });
    const { engine } = plane.daemon;
    const applied = await engine.apply({
      file: join(dir, 'stack.yaml'),
      stack: 'web',
      parameters: [],
      who: 'test',
    });
    expect(applied.status).toBe('converged');

    const proxyPort = Number(new URL(plane.daemon.proxyUrl).port);
    for (let i = 0; i < 5; i++) expect((await get(proxyPort, '/')).status).toBe(200);
    expect((await get(proxyPort, '/nosuch-path-is-still-the-app')).status).toBe(200);

    // A crash from outside: the reconciler starts a fresh instance of the same revision.
    const [victim] = await engine.instances({ stack: 'web' });
    process.kill(-(victim?.pid ?? 0), 'SIGKILL');
    await expect
      .poll(
        async () => {
          const now = await engine.instances({ stack: 'web' });
          return now.filter((i) => i.state === 'running' && i.id !== victim?.id).length;
        },
        { timeout: 20_000, interval: 100 },
      )
      .toBe(2);

    const url = `${plane.api.address.url}/metrics`;
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();

    const { token } = await new TokenStore(plane.daemon.store).create('viewer', 'prometheus', 't');
    const scraped = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = parseExposition(await scraped.text()); // strict: fails on a family declared twice

    expect(total(m, 'drover_applies_total', { stack: 'web', result: 'converged' })).toBe(1);
    const route = { route: 'web/route', service: 'web/web', revision: victim?.revision ?? '' };
    expect(total(m, 'drover_proxy_requests_total', { ...route, status: '2xx' })).toBe(6);
    const duration = 'drover_proxy_request_duration_seconds';
    expect(total(m, duration, route, `${duration}_count`)).toBe(6);
    // The heal is counted once the replacement serves, a moment after it runs.
    await expect
      .poll(async () => {
        const again = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        return total(parseExposition(await again.text()), 'drover_heals_total', {
          stack: 'web',
          service: 'web',
          reason: 'exited',
        });
      })
      .toBe(1);
    expect(total(m, 'drover_instances', { stack: 'web', service: 'web', state: 'running' })).toBe(
      2,
    );
    expect(total(m, 'drover_instance_starts_total', { runtime: 'process' })).toBeGreaterThanOrEqual(
      3,
    );
    expect(
      total(m, 'drover_instance_exits_total', { runtime: 'process', reason: 'killed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(total(m, 'drover_reconcile_passes_total')).toBeGreaterThan(0);
    expect(m.get('drover_drift_findings')?.type).toBe('gauge');
    expect(m.has('drover_process_resident_memory_bytes')).toBe(true);

    // The same daemon's log: its events and the requests, one JSON object per line.
    const lines = jsonLines(logText);
    expect(lines.find((l) => l['event'] === 'daemon.started')).toMatchObject({ level: 'info' });
    expect(lines.find((l) => l['event'] === 'apply.converged')).toMatchObject({
      level: 'info',
      stack: 'web',
      who: 'test',
    });
    expect(lines.find((l) => l['event'] === 'instance.exited')).toMatchObject({ level: 'warn' });
    expect(lines.find((l) => l['path'] === '/metrics' && l['status'] === 200)).toMatchObject({
      level: 'debug',
      who: 'prometheus',
    });
    expect(lines.find((l) => l['path'] === '/metrics' && l['status'] === 401)).toBeDefined();
  });
});

describe('drover serve and drover up log JSON lines, and never a secret', () => {
  it('serve: to standard error by default, from start to stop; a bad level is a usage error', async () => {
    const { home } = tempDirs();
    const env = { DROVER_HOME: home };
    const bad = await runCli(['serve', '--log-level', 'loud'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--log-level: 'loud' is not one of trace, debug, info");

    const stop = new AbortController();
    const serving = runCli(
      ['serve', '--proxy-listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0'],
      env,
      false,
      { signal: stop.signal },
    );
    await expect.poll(() => existsSync(join(home, 'admin.token')), { timeout: 20_000 }).toBe(true);
    stop.abort();
    const run = await serving;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Drover is running');
    const lines = jsonLines(run.stderr); // nothing but JSON lines on standard error
    expect(lines.map((l) => l['msg'])).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^daemon started/),
        expect.stringMatching(/^control plane started: API on http:\/\/127\.0\.0\.1:\d+/),
        'control plane stopped; instances keep running',
      ]),
    );
  });

  it('up: to $DROVER_HOME/logs/daemon.log; a hidden parameter and a secret stay out of it', async () => {
    const { home, dir } = tempDirs();
    const canary = `canary-${Date.now().toString(36)}`;
    const file = join(home, 'logs', 'daemon.log');
    const stop = new AbortController();
    const up = runCli(
      [
        'up',
        join(dir, 'full.yaml'),
        '--stack',
        'secretive',
        '-p',
        `password=${canary}`,
        '--log-level',
        'trace',
        '--proxy-listen',
        '127.0.0.1:0',
        '--api-listen',
        '127.0.0.1:0',
      ],
      { DROVER_HOME: home },
      false,
      { signal: stop.signal },
    );
    const settled = (): string | undefined =>
      existsSync(file)
        ? jsonLines(readFileSync(file, 'utf8'))
            .map((l) => String(l['event']))
            .find((e) => e === 'apply.converged' || e === 'apply.failed')
        : undefined;
    await expect.poll(settled, { timeout: 25_000, interval: 100 }).toBe('apply.converged');
    stop.abort();
    const run = await up;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`The daemon logs to ${file}.`);
    // Only the short human warnings (missing isolation, on some machines) may be there.
    expect(run.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warning: '))).toEqual(
      [],
    );

    // The instances outlive `up`: a control plane on the same home removes them.
    const plane = await startControlPlane({ home, proxy: loopback, api: loopback });
    await destroyAll(plane);
    const events: string[] = [];
    for await (const e of plane.daemon.engine.events({})) events.push(JSON.stringify(e));
    await plane.close();

    const logText = readFileSync(file, 'utf8');
    const lines = jsonLines(logText);
    expect(lines.some((l) => l['level'] === 'debug' && l['event'] === 'progress')).toBe(true);
    // The secret and the parameter are named in the log; their value is not.
    expect(lines.some((l) => l['resource'] === 'password')).toBe(true);
    for (const text of [logText, run.stdout, run.stderr, events.join('\n')])
      expect(text).not.toContain(canary);
  });
});
