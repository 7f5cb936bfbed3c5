import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { digestContext } from './archive.js';
import { BuildError } from './errors.js';
import type { SnapshotRequest } from './snapshot.js';
import type { TestHome } from './testing/home.js';
import { leftovers, livingMembers, openTestHome } from './testing/home.js';
import { describeTree, removeTemps, tempDir, writeTree } from './testing/tree.js';

const homes: TestHome[] = [];
afterEach(async () => {
  for (const home of homes.splice(0)) await home.close();
  removeTemps();
});

function setup(): TestHome {
  const home = openTestHome();
  homes.push(home);
  return home;
}

const ID = 'c'.repeat(64);

/** A build written as a shell script; the argv is sh's, never a string Drover assembles. */
const sh = (script: string, ...args: string[]): string[] => [
  '/bin/sh',
  '-c',
  script,
  'sh',
  ...args,
];

function request(context: string, build: string[], extra: Partial<SnapshotRequest> = {}) {
  return { id: ID, context, build, timeoutMs: 10_000, who: 'builder', ...extra };
}

function context(): string {
  return writeTree(tempDir(), {
    'src.txt': 'source\n',
    'notes.tmp': 'ignored by the context\n',
    '.droverignore': '*.tmp\nout/\n',
  });
}

async function waitUntil(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

describe('ensureSnapshot with a build', () => {
  it('runs the argv in a scratch copy and snapshots what it made', async () => {
    const { artifacts } = setup();
    const ctx = context();
    const before = await describeTree(ctx);
    const script = [
      'test -e notes.tmp && exit 9', // ignored files are not in the copy
      'echo built >> src.txt',
      'mkdir -p out && echo binary > out/app && chmod +x out/app',
      'echo scratch > notes.tmp', // ignore files choose the input, not the output
      'env | sort > env.txt',
    ].join('\n');
    const snapshot = await artifacts.ensureSnapshot(request(ctx, sh(script)));
    expect(await describeTree(ctx)).toEqual(before);
    const file = (name: string): string => readFileSync(join(snapshot.dir, name), 'utf8');
    expect(file('src.txt')).toBe('source\nbuilt\n');
    expect(file('out/app')).toBe('binary\n');
    expect(statSync(join(snapshot.dir, 'out/app')).mode & 0o777).toBe(0o555);
    expect(file('notes.tmp')).toBe('scratch\n');
    const env = file('env.txt')
      .trim()
      .split('\n')
      .map((line) => line.split('=')[0]);
    // sh adds PWD (and some add SHLVL); nothing else of the test runner's environment passes.
    expect(env.filter((name) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(name ?? ''))).toEqual(
      ['DROVER_BUILD', 'HOME', 'LANG', 'PATH'].filter(
        (name) => name !== 'LANG' || process.env['LANG'] !== undefined,
      ),
    );
    expect(file('env.txt')).toContain('DROVER_BUILD=1\n');
    const [record] = await artifacts.history();
    expect(record).toMatchObject({ id: ID, result: 'built', who: 'builder' });
    expect(readFileSync(record?.logPath ?? '', 'utf8')).toContain('build succeeded');
    expect((await artifacts.get(ID))?.contextDigest).toBe(await digestContext(ctx));
  });

  it('builds once for the same id, also when asked concurrently', async () => {
    const { artifacts } = setup();
    const ctx = context();
    const runs = join(tempDir(), 'runs');
    const build = sh('echo run >> "$1"; sleep 0.2; echo done > result', runs);
    const all = await Promise.all(
      [1, 2, 3].map(() => artifacts.ensureSnapshot(request(ctx, build))),
    );
    expect(new Set(all.map((s) => s.digest)).size).toBe(1);
    await artifacts.ensureSnapshot(request(ctx, build));
    expect(readFileSync(runs, 'utf8')).toBe('run\n');
    const results = (await artifacts.history()).map((r) => r.result).sort();
    expect(results).toEqual(['built', 'cached', 'cached', 'cached']);
  });

  it('fails with the log of a failing build and stores nothing', async () => {
    const { artifacts, home } = setup();
    const build = sh('echo compiling; echo "error: missing semicolon" >&2; exit 3');
    const error = await artifacts
      .ensureSnapshot(request(context(), build))
      .then(() => undefined)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BuildError);
    const failure = error as BuildError;
    expect(failure.code).toBe('ARTIFACT_BUILD_FAILED');
    expect(failure.details.exitCode).toBe(3);
    expect(failure.logTail).toContain('compiling\nerror: missing semicolon');
    expect(failure.logPath).toMatch(new RegExp(`/artifacts/logs/${ID}-[0-9T-]+Z\\.log$`));
    expect(readFileSync(failure.logPath, 'utf8')).toContain('error: missing semicolon');
    expect(existsSync(join(home, 'artifacts', ID))).toBe(false);
    expect(leftovers(home)).toEqual([]);
    expect((await artifacts.history())[0]).toMatchObject({
      result: 'failed',
      logPath: failure.logPath,
    });
    // A later successful build of the same id is not blocked by the failure.
    await artifacts.ensureSnapshot(request(context(), sh('true')));
  });

  it('fails when the argv cannot be started', async () => {
    const { artifacts } = setup();
    await expect(
      artifacts.ensureSnapshot(request(context(), ['/nonexistent/compiler'])),
    ).rejects.toMatchObject({ code: 'ARTIFACT_BUILD_FAILED' });
  });

  for (const [name, script] of [
    ['a build that stops on SIGTERM', 'sleep 30 & echo $$ > "$1"; wait'],
    ['a build that ignores SIGTERM', 'trap "" TERM; sleep 30 & echo $$ > "$1"; wait; wait'],
  ] as const) {
    it(`kills the whole process group of ${name} at the time limit`, async () => {
      const { artifacts, home } = setup();
      const pidFile = join(tempDir(), 'pgid');
      const error = await artifacts
        .ensureSnapshot(request(context(), sh(script, pidFile), { timeoutMs: 300 }))
        .then(() => undefined)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BuildError);
      expect((error as BuildError).code).toBe('ARTIFACT_BUILD_TIMEOUT');
      const pgid = Number(readFileSync(pidFile, 'utf8'));
      // SIGKILL is sent before ensureSnapshot returns; dying takes the kernel a moment.
      await waitUntil(() => livingMembers(pgid).length === 0);
      expect(livingMembers(pgid)).toEqual([]);
      expect(existsSync(join(home, 'artifacts', ID))).toBe(false);
      expect(leftovers(home)).toEqual([]);
      expect(readdirSync(join(home, 'artifacts', 'logs'))).toHaveLength(1);
      expect((await artifacts.history())[0]).toMatchObject({ result: 'timeout' });
    });
  }

  it('fails when the output holds a link out of the snapshot', async () => {
    const { artifacts } = setup();
    const build = sh('ln -s /usr/bin/python3 python');
    await expect(artifacts.ensureSnapshot(request(context(), build))).rejects.toMatchObject({
      code: 'ARTIFACT_BUILD_FAILED',
      message: expect.stringMatching(/output cannot be archived: symbolic link python/),
    });
  });

  it('cancels builds in progress when the store closes', async () => {
    const { artifacts } = setup();
    const building = artifacts.ensureSnapshot(request(context(), sh('sleep 30')));
    const outcome = building.catch((caught: unknown) => caught);
    await new Promise((r) => setTimeout(r, 100));
    await artifacts.close();
    expect(await outcome).toMatchObject({ code: 'ARTIFACT_BUILD_ABORTED' });
    await expect(artifacts.ensureSnapshot(request(context(), sh('true')))).rejects.toThrow(
      /closed/,
    );
  });

  it('cancels a build when the request is aborted', async () => {
    const { artifacts } = setup();
    const controller = new AbortController();
    const building = artifacts.ensureSnapshot(
      request(context(), sh('sleep 30'), { signal: controller.signal }),
    );
    setTimeout(() => controller.abort(), 100);
    await expect(building).rejects.toMatchObject({ code: 'ARTIFACT_BUILD_ABORTED' });
  });
});
