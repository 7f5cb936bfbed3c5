import { spawn } from 'node:child_process';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TestDaemon } from '../src/api/testing/index.js';
import { startTestDaemon } from '../src/api/testing/index.js';

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
