import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TestDaemon } from '../src/api/testing/index.js';
import { startTestDaemon } from '../src/api/testing/index.js';
import { startControlPlane } from '../src/cli/control-plane.js';
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
