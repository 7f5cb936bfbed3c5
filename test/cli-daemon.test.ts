import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TestDaemon } from '../src/api/testing/index.js';
import { startTestDaemon } from '../src/api/testing/index.js';
import { startControlPlane } from '../src/cli/control-plane.js';
import { main } from '../src/cli/index.js';
import { runCli } from '../src/cli/testing.js';

import { copyWebapp } from './support/engine.js';

/** `drover` as its own process (from the sources), so signals and exiting are real. */
const ENTRY = `import { main } from './src/cli/index.ts';
process.exitCode = await main(['node', 'drover', ...process.argv.slice(1)]);`;

function drover(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', ENTRY, ...args],
    { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, out: () => stdout, err: () => stderr };
}

let daemon: TestDaemon;
beforeEach(async () => {
  daemon = await startTestDaemon();
});
afterEach(() => daemon.close());

describe('drover against a daemon, as a process', () => {
  it('applies and exits by itself', async () => {
    const run = drover(['apply', 'examples/hello', '--yes'], {
      DROVER_HOME: daemon.home,
      DROVER_API: daemon.url,
    });
    expect(await run.exited).toBe(0);
    expect(run.out()).toContain('url = http://hello.localhost:8080/');
  });

  it('follows events until Ctrl-C, then exits 0', async () => {
    daemon.engine.record({ type: 'daemon.started', message: 'daemon started' });
    const run = drover(['events', '--follow'], {
      DROVER_HOME: daemon.home,
      DROVER_API: daemon.url,
    });
    await expect.poll(run.out, { timeout: 20_000 }).toContain('daemon started');
    daemon.engine.record({ type: 'deploy.succeeded', stack: 'hello', message: 'web is live' });
    await expect.poll(run.out).toContain('web is live');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.err()).toBe('');
  });
});

describe('drover drift against a real stack, as a process', () => {
  it('finds nothing after the apply (exit 0), then a file edited in the copy (exit 1)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'drover-drift-'));
    const dir = copyWebapp();
    const loopback = { host: '127.0.0.1', port: 0 };
    const plane = await startControlPlane({ home, proxy: loopback, api: loopback });
    const { engine } = plane.daemon;
    try {
      const replicas = { name: 'replicas', value: '1', fromText: true, source: '-p' };
      const file = join(dir, 'stack.yaml');
      const applied = await engine.apply({
        file,
        stack: 'web',
        parameters: [replicas],
        who: 'test',
      });
      expect(applied.status).toBe('converged');
      const env = { DROVER_HOME: home, DROVER_API: plane.api.address.url };

      // In-process, to keep the test short: the process run below shows the exit status is real.
      const clean = await runCli(['drift', '--json'], env);
      expect(clean.code).toBe(0);
      expect(JSON.parse(clean.stdout)).toMatchObject({ instances: [], rendered: [], scanned: 1 });

      const [instance] = await engine.instances({ stack: 'web' });
      const copy = join(instance?.dir ?? '/nonexistent', 'server.js');
      chmodSync(copy, 0o644); // the copy is read-only, as a hand edit would find it
      appendFileSync(copy, '// edited by hand\n');
      const drifted = drover(['drift'], env);
      expect(await drifted.exited).toBe(1);
      expect(drifted.err()).toBe('');
      expect(drifted.out()).toContain(`web/web ${instance?.id} (process, revision `);
      expect(drifted.out()).toContain('\n  file server.js changed\n');
    } finally {
      // Only a stack that was recorded can be destroyed; a failed apply must not hide its error.
      if ((await engine.stacks()).length > 0) await engine.destroy('web', 'test');
      await plane.close();
      rmSync(home, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The web app with its VERSION from a hidden parameter: what it prints must come out redacted. */
const HIDDEN_VERSION = `drover_template_version: 2026-11-21
parameters:
  version: { type: string, hidden: true }
resources:
  app:
    type: Drover::Artifact
    properties: { context: . }
  web:
    type: Drover::Service
    properties:
      artifact: { get_resource: app }
      command: [node, server.js]
      replicas: 2
      env: { VERSION: { get_param: version } }
      health: { http: /healthz, interval: 100ms }
      stop_grace: 5s
`;

describe('drover logs against a real stack', () => {
  it('prints the lines of every instance, secrets hidden, follows new instances; the apply is audited', async () => {
    const home = mkdtempSync(join(tmpdir(), 'drover-logs-'));
    const dir = copyWebapp();
    writeFileSync(join(dir, 'hidden.yaml'), HIDDEN_VERSION);
    const loopback = { host: '127.0.0.1', port: 0 };
    const plane = await startControlPlane({ home, proxy: loopback, api: loopback });
    const { engine } = plane.daemon;
    const env = { DROVER_HOME: home, DROVER_API: plane.api.address.url };
    const apply = (version: string) =>
      runCli(
        ['apply', join(dir, 'hidden.yaml'), '--stack', 'web', '-p', `version=${version}`, '--yes'],
        env,
      );
    try {
      // Through the API, as a person would: the apply is an audit event.
      const applied = await apply('s3cr3t-one');
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      const first = await engine.instances({ stack: 'web' });
      expect(first).toHaveLength(2);

      // Each instance says it listens once it does, which is before it is healthy.
      const logs = await runCli(['logs', 'web/web'], env);
      expect(logs).toMatchObject({ code: 0, stderr: '' });
      for (const i of first) {
        expect(logs.stdout).toContain(
          `${i.id} | version (hidden) listening on 127.0.0.1:${i.port}\n`,
        );
      }
      expect(logs.stdout).not.toContain('s3cr3t');

      // Following: instances of the next deploy join the stream, their new secret hidden too.
      const stdout = new PassThrough();
      let followed = '';
      stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
      const stop = new AbortController();
      const following = main(['node', 'drover', 'logs', 'web/web', '-f', '-o', 'json'], {
        env,
        stdout,
        stderr: new PassThrough(),
        signal: stop.signal,
      });
      await expect.poll(() => followed.split('\n').length, { timeout: 20_000 }).toBeGreaterThan(2);
      expect((await apply('s3cr3t-two')).code).toBe(0);
      const second = (await engine.instances({ stack: 'web' })).filter(
        (i) => !first.some((f) => f.id === i.id),
      );
      expect(second.length).toBeGreaterThan(0);
      for (const i of second) {
        await expect
          .poll(() => followed, { timeout: 20_000 })
          .toContain(
            JSON.stringify({
              instance: i.id,
              stream: 'stdout',
              line: `version (hidden) listening on 127.0.0.1:${i.port}`,
            }),
          );
      }
      stop.abort();
      expect(await following).toBe(0);
      expect(followed).not.toContain('s3cr3t');

      const events = await runCli(['events', '--stack', 'web', '-o', 'json'], env);
      const audits = events.stdout
        .trim()
        .split('\n')
        .map(
          (line) => JSON.parse(line) as { type: string; who?: string; message: string; at: string },
        )
        .filter((e) => e.type === 'audit');
      expect(audits).toEqual([
        expect.objectContaining({ who: 'admin', message: 'POST /api/stacks/apply → 200' }),
        expect.objectContaining({ who: 'admin', message: 'POST /api/stacks/apply → 200' }),
      ]);
      expect(Number.isNaN(Date.parse(audits[0]?.at ?? ''))).toBe(false);
      expect(events.stdout).not.toContain('s3cr3t');
    } finally {
      if ((await engine.stacks()).length > 0) await engine.destroy('web', 'test');
      await plane.close();
      rmSync(home, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
    // Two deploys of two instances each, on a machine other tests share.
  }, 90_000);
});
