import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '../src/runtime/testing/docker.js';

import { get } from './support/engine.js';

/**
 * The README's main job with the installed command (built by `npm ci`), as
 * users run it: `drover up` in the foreground, the other commands against it
 * from another terminal, Ctrl-C, then `drover serve` re-adopting the instances.
 */
interface Run {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  out(): string;
  err(): string;
}

let home: string;
let env: NodeJS.ProcessEnv;
let proxyPort: number;
let apiPort: number;
const running: Run[] = [];

function drover(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, ['bin/drover.js', ...args], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const run = { child, exited, out: () => stdout, err: () => stderr };
  running.push(run);
  return run;
}

async function finished(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; out: string; err: string }> {
  const run = drover(args, extraEnv);
  const status = await run.exited;
  return { status, out: run.out(), err: run.err() };
}

const listen = (): string[] => [
  '--proxy-listen',
  `127.0.0.1:${proxyPort}`,
  '--api-listen',
  `127.0.0.1:${apiPort}`,
];

const hello = (): Promise<{ status: number; body: string }> =>
  get(proxyPort, '/', 'hello.localhost');

interface PsRow {
  id: string;
  service: string;
  revision: string;
  state: string;
  health: string;
  port: number;
  pid?: number;
  dir?: string;
  serving: boolean;
}

async function ps(): Promise<PsRow[]> {
  const run = await finished(['ps', '--json']);
  expect(run.err).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.out) as PsRow[];
}

/** Running, and not a zombie waiting for a parent (or an init) to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'drover-up-'));
  proxyPort = await freePort();
  apiPort = await freePort();
  env = {
    PATH: process.env['PATH'] ?? '',
    DROVER_HOME: home,
    DROVER_API: `http://127.0.0.1:${apiPort}`,
  };
});

afterAll(async () => {
  for (const run of running) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  // Whatever a failed run left behind: the instances are ours to stop.
  const serve = drover(['serve', ...listen()]);
  for (let waited = 0; !serve.out().includes('Drover is running') && waited < 30_000; waited += 100)
    await new Promise((resolve) => setTimeout(resolve, 100));
  await finished(['destroy', 'hello', '--yes']);
  serve.child.kill('SIGTERM');
  await serve.exited;
  rmSync(home, { recursive: true, force: true });
});

describe('drover up examples/hello, then the CLI around it', () => {
  let up: Run;
  let firstPids: number[] = [];

  it('brings the stack up behind the proxy and says where it answers', async () => {
    up = drover(['up', 'examples/hello', ...listen()]);
    await expect.poll(up.out, { timeout: 60_000, interval: 200 }).toContain('Serving through');
    expect(up.out()).toContain('3 to create');
    expect(up.out()).toContain('Stack hello is up');
    expect(up.out()).toContain(`url = http://hello.localhost:${proxyPort}/`);
    const reply = await hello();
    expect(reply.status).toBe(200);
    expect(reply.body).toMatch(/^Hello from Drover \(instance web-[0-9a-f]+\)$/m);
    // The daemon's admin token, for the CLI on this machine only.
    expect(statSync(join(home, 'admin.token')).mode & 0o777).toBe(0o600);
  });

  it('lists the instances with their process, port and root directory', async () => {
    const rows = await ps();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ service: 'web', state: 'running', health: 'healthy' });
      expect(row.revision).toMatch(/^[0-9a-f]{12,}$/);
      expect(row.port).toBeGreaterThan(0);
      expect(alive(row.pid ?? -1)).toBe(true);
      expect(statSync(row.dir ?? '/nonexistent').isDirectory()).toBe(true);
    }
    firstPids = rows.map((r) => r.pid ?? -1);

    // What the instances wrote, merged, each line after its instance.
    const logs = await finished(['logs', 'hello/web']);
    expect(logs.err).toBe('');
    expect(logs.status).toBe(0);
    for (const row of rows) {
      expect(logs.out).toContain(`${row.id} | listening on 127.0.0.1:${row.port}\n`);
    }
  });

  it('makes a viewer token that reads but cannot change anything, then revokes it', async () => {
    const created = await finished(['token', 'create', '--role', 'viewer', '-o', 'json']);
    expect(created.status).toBe(0);
    const { token, id } = JSON.parse(created.out) as { token: string; id: string };
    const asViewer = { DROVER_TOKEN: token };
    expect((await finished(['status'], asViewer)).status).toBe(0);
    const refused = await finished(['destroy', 'hello', '--yes'], asViewer);
    expect(refused.status).toBe(3);
    expect(refused.err).toContain('this needs a deployer token');
    const list = await finished(['token', 'list']);
    expect(list.out).toContain(id);
    expect(list.out).not.toContain(token);
    expect((await finished(['token', 'revoke', id])).status).toBe(0);
    expect((await finished(['status'], asViewer)).status).toBe(3);
  });

  it('applies a change through the daemon, then rolls it back', async () => {
    const apply = await finished(['apply', 'examples/hello', '-p', 'message=second', '--yes']);
    expect(apply.err).toBe('');
    expect(apply.status).toBe(0);
    expect(apply.out).toContain('replace web');
    expect((await hello()).body).toContain('second');

    const history = await finished(['history', 'hello/web']);
    expect(history.status).toBe(0);
    expect(history.out.trim().split('\n')).toHaveLength(3); // header and two revisions

    const rollback = await finished(['rollback', 'hello/web', '--yes']);
    expect(rollback.status).toBe(0);
    expect((await hello()).body).toContain('Hello from Drover');
    // Blue-green kept the first set warm: the rollback switched back to it.
    const serving = (await ps()).filter((r) => r.serving).map((r) => r.pid);
    expect(serving.sort()).toEqual([...firstPids].sort());
  });

  it('refuses what it cannot do with a clear error and exit status', async () => {
    const missing = await finished(['rollback', 'nosuch/web', '--yes']);
    expect(missing.status).toBe(2);
    expect(missing.err).toMatch(/nosuch/);
    const badToken = await finished(['ps'], { DROVER_TOKEN: 'not-a-token' });
    expect(badToken.status).toBe(3);
    expect(badToken.err).toMatch(/token/i);
    const noAuth = await fetch(`http://127.0.0.1:${apiPort}/api/instances`);
    expect(noAuth.status).toBe(401);
  });

  it('Ctrl-C stops the control plane and leaves the instances running', async () => {
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    await expect(hello()).rejects.toThrow(); // the proxy went with the control plane
    for (const pid of firstPids) expect(alive(pid)).toBe(true);
  });

  it('drover serve re-adopts them, and destroy removes them', async () => {
    const serve = drover(['serve', ...listen()]);
    await expect.poll(serve.out, { timeout: 30_000 }).toContain('Drover is running');
    expect((await hello()).body).toContain('Hello from Drover');
    const rows = await ps();
    expect(
      rows
        .filter((r) => r.serving)
        .map((r) => r.pid)
        .sort(),
    ).toEqual([...firstPids].sort());

    const destroy = await finished(['destroy', 'hello', '--yes']);
    expect(destroy.status).toBe(0);
    expect(await ps()).toEqual([]);
    for (const row of rows) expect(alive(row.pid ?? -1)).toBe(false);

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });

  it('up on a bad address, a missing file or a taken home changes nothing (exit 2 or 3)', async () => {
    const badListen = await finished(['up', 'examples/hello', '--api-listen', 'nowhere']);
    expect(badListen.status).toBe(2);
    expect(badListen.err).toContain('--api-listen');
    const missing = await finished(['up', 'examples/nosuch', ...listen()]);
    expect(missing.status).toBe(2);
    expect(missing.err).toContain('nosuch');
    const taken = drover(['serve', ...listen()]);
    await expect.poll(taken.out, { timeout: 30_000 }).toContain('Drover is running');
    // One daemon per home; and an address in use is said as such.
    const sameHome = await finished(['up', 'examples/hello', ...listen()]);
    expect(sameHome.status).toBe(3);
    expect(sameHome.err).toMatch(/another Drover daemon \(pid \d+\) is running on/);
    const otherHome = mkdtempSync(join(tmpdir(), 'drover-up-other-'));
    const busy = await finished(['up', 'examples/hello', ...listen()], { DROVER_HOME: otherHome });
    rmSync(otherHome, { recursive: true, force: true });
    expect(busy.status).toBe(3);
    expect(busy.err).toMatch(/the proxy cannot listen on .*address already in use/);
    taken.child.kill('SIGTERM');
    expect(await taken.exited).toBe(0);
  });
});
