import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TestDaemon } from '../api/testing/index.js';
import { startTestDaemon } from '../api/testing/index.js';

import { runCli } from './testing.js';

let daemon: TestDaemon;
beforeEach(async () => {
  daemon = await startTestDaemon();
});
afterEach(() => daemon.close());

const env = (): NodeJS.ProcessEnv => ({ DROVER_HOME: daemon.home, DROVER_API: daemon.url });

describe('drover token', () => {
  it('creates a token, prints it once with how to use it, and it works at once', async () => {
    const run = await runCli(['token', 'create', '--role', 'deployer', '--name', 'ci'], env());
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const token = /^ {2}(drv_\S+)$/m.exec(run.stdout)?.[1] ?? '';
    const [info] = (await daemon.tokens.list()).filter((t) => t.name === 'ci');
    expect(run.stdout).toBe(
      [
        `Created deployer token ${info?.id} (ci). It is shown this once; keep it safe:`,
        '',
        `  ${token}`,
        '',
        'Use it with:',
        `  export DROVER_TOKEN=${token}`,
        `Revoke it with: drover token revoke ${info?.id}`,
        '',
      ].join('\n'),
    );
    expect(await daemon.tokens.verify(token)).toMatchObject({
      role: 'deployer',
      createdBy: 'admin',
    });
    const asCi = await runCli(['status'], { ...env(), DROVER_TOKEN: token });
    expect(asCi.code).toBe(0);
  });

  it('lists tokens without secrets, and revokes one (its holder gets exit 3 at once)', async () => {
    const { token, info } = await daemon.tokens.create('viewer', 'dash', 'alice');
    const list = await runCli(['token', 'list'], env());
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual(['ID', 'NAME', 'ROLE', 'CREATED', 'BY']);
    expect(lines.find((l) => l.startsWith(info.id))?.split(/\s{2,}/)).toEqual([
      info.id,
      'dash',
      'viewer',
      info.createdAt.replace(/\.\d+Z$/, 'Z'),
      'alice',
    ]);
    expect(list.stdout).not.toContain(token.slice(4));

    const revoke = await runCli(['token', 'revoke', info.id], env());
    expect(revoke).toEqual({
      code: 0,
      stderr: '',
      stdout: `Revoked viewer token ${info.id} (dash).\n`,
    });
    const refused = await runCli(['ps'], { ...env(), DROVER_TOKEN: token });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('the token is not valid (mistyped, or revoked)');
    expect(await runCli(['token', 'revoke', info.id], env())).toMatchObject({
      code: 2,
      stderr: `drover: no token ${info.id}\n`,
    });
  });

  it('needs an admin token (exit 3), a known role (exit 2), and will not revoke itself', async () => {
    const { token } = await daemon.tokens.create('deployer', 'ci', 'test');
    const asDeployer = await runCli(['token', 'list'], { ...env(), DROVER_TOKEN: token });
    expect(asDeployer).toMatchObject({
      code: 3,
      stderr: "drover: this needs an admin token; 'ci' is a deployer token\n",
    });
    const role = await runCli(['token', 'create', '--role', 'root'], env());
    expect(role.code).toBe(2);
    expect(role.stderr).toContain("argument 'root' is invalid");
    expect((await runCli(['token', 'create'], env())).code).toBe(2);
    const [admin] = (await daemon.tokens.list()).filter((t) => t.name === 'admin');
    const self = await runCli(['token', 'revoke', admin?.id ?? ''], env());
    expect(self.code).toBe(2);
    expect(self.stderr).toBe('drover: a token cannot revoke itself: use another admin token\n');
  });
});
