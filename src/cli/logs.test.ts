import { PassThrough } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TestDaemon } from '../api/testing/index.js';
import { startTestDaemon } from '../api/testing/index.js';

import { main } from './index.js';
import { capture, runCli } from './testing.js';

let daemon: TestDaemon;
beforeEach(async () => {
  daemon = await startTestDaemon();
});
afterEach(() => daemon.close());

const env = (): NodeJS.ProcessEnv => ({ DROVER_HOME: daemon.home, DROVER_API: daemon.url });

describe('drover logs', () => {
  it("prints the service's lines merged, each after its instance id", async () => {
    const run = await runCli(['logs', 'hello/web'], env());
    expect(run).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'web-3f9c2a | listening on 127.0.0.1:41001',
        'web-77d01e | listening on 127.0.0.1:41002',
        'web-3f9c2a | GET /missing 404',
        '',
      ].join('\n'),
    });
    expect(daemon.engine.calls.at(-1)).toEqual({
      method: 'logs',
      args: ['hello', 'web', { follow: false, signal: undefined }],
    });
  });

  it('passes --tail, and colours each instance on a terminal (not with NO_COLOR)', async () => {
    const tail = await runCli(['logs', 'hello/web', '--tail', '1'], env());
    expect(tail.stdout).toBe('web-3f9c2a | GET /missing 404\n');
    const tty = await runCli(['logs', 'hello/web'], env(), true);
    const lines = tty.stdout.trim().split('\n');
    // The two instances in two colours, the same instance in the same one.
    // eslint-disable-next-line no-control-regex -- ESC is what is looked for
    const sgr = /^\u001b\[\d+m/;
    const colour = (line: string | undefined): string | undefined => sgr.exec(line ?? '')?.[0];
    expect(colour(lines[0])).toBeDefined();
    expect(colour(lines[0])).not.toBe(colour(lines[1]));
    expect(colour(lines[2])).toBe(colour(lines[0]));
    const plain = await runCli(['logs', 'hello/web'], { ...env(), NO_COLOR: '1' }, true);
    expect(plain.stdout).not.toContain('\u001b[');
  });

  it('follows new lines until interrupted, then exits 0', async () => {
    const stdout = capture();
    const stop = new AbortController();
    const running = main(['node', 'drover', 'logs', 'hello/web', '--follow', '--tail', '0'], {
      env: env(),
      stdout,
      stderr: new PassThrough(),
      signal: stop.signal,
    });
    await expect.poll(() => daemon.engine.calls.some((c) => c.method === 'logs')).toBe(true);
    daemon.engine.log({ instance: 'web-77d01e', stream: 'stdout', line: 'GET / 200' });
    await expect.poll(() => stdout.text()).toBe('web-77d01e | GET / 200\n');
    stop.abort();
    expect(await running).toBe(0);
  });

  it('says which stack or service does not exist (exit 2), and what a target is', async () => {
    expect(await runCli(['logs', 'hello/db'], env())).toMatchObject({
      code: 2,
      stderr: 'drover: hello has no service db\n',
    });
    expect((await runCli(['logs', 'other/web'], env())).code).toBe(2);
    expect(await runCli(['logs', 'hello'], env())).toMatchObject({
      code: 2,
      stderr: "drover: 'hello' is not STACK/SERVICE\n",
    });
    expect((await runCli(['logs', 'hello/web', '--tail', 'x'], env())).code).toBe(2);
  });

  it('exits 3 when the daemon goes away while following', async () => {
    const stderr = capture();
    const stdout = capture();
    const running = main(['node', 'drover', 'logs', 'hello/web', '-f'], {
      env: env(),
      stdout,
      stderr,
    });
    await expect.poll(() => stdout.text()).toContain('GET /missing 404');
    await daemon.close();
    expect(await running).toBe(3);
    expect(stderr.text()).toContain(`drover: lost the connection to the daemon at ${daemon.url}`);
    daemon = await startTestDaemon();
  });
});
