import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';

import type { BuildRequest } from '../runtime/runtime.js';

import { digestContext } from './archive.js';
import {
  ArtifactCorruptError,
  ArtifactNotFoundError,
  ContextChangedError,
  InvalidBuildRequestError,
  UnpackError,
} from './errors.js';
import type { SnapshotRequest } from './snapshot.js';
import type { TestHome } from './testing/home.js';
import { leftovers, openTestHome } from './testing/home.js';
import { describeTree, removeTemps, tempDir, writeTree } from './testing/tree.js';

const homes: TestHome[] = [];
afterEach(async () => {
  for (const home of homes.splice(0)) await home.close();
  removeTemps();
});

function setup(now?: () => Date): TestHome {
  const home = openTestHome(now === undefined ? {} : { now });
  homes.push(home);
  return home;
}

function context(): string {
  return writeTree(tempDir(), {
    'server.js': 'console.log("hi")\n',
    'bin/start': { content: '#!/bin/sh\nexec node server.js\n', mode: 0o755 },
    'public/index.html': '<h1>hi</h1>\n',
    current: { link: 'public' },
    '.droverignore': '*.log\n',
    'debug.log': 'not part of it\n',
  });
}

const request = (ctx: string, extra: Partial<SnapshotRequest> = {}): SnapshotRequest => ({
  id: 'a'.repeat(64),
  context: ctx,
  timeoutMs: 10_000,
  who: 'tester',
  ...extra,
});

const sha256 = (path: string): string =>
  createHash('sha256').update(readFileSync(path)).digest('hex');

describe('ensureSnapshot without a build', () => {
  it('stores the canonical archive of the context and a read-only tree', async () => {
    const { artifacts, home } = setup();
    const ctx = context();
    const snapshot = await artifacts.ensureSnapshot(request(ctx));
    const dir = join(home, 'artifacts', 'a'.repeat(64));
    expect(snapshot).toEqual({
      id: 'a'.repeat(64),
      dir: join(dir, 'root'),
      archive: join(dir, 'snapshot.tar'),
      digest: await digestContext(ctx),
    });
    expect(sha256(snapshot.archive)).toBe(snapshot.digest);
    expect(await describeTree(snapshot.dir)).toEqual(
      (await describeTree(ctx)).filter((line) => !line.includes('debug.log')),
    );
    expect(statSync(join(snapshot.dir, 'server.js')).mode & 0o7777).toBe(0o444);
    expect(statSync(join(snapshot.dir, 'bin/start')).mode & 0o7777).toBe(0o555);
    expect(statSync(join(snapshot.dir, 'bin')).mode & 0o7777).toBe(0o555);
    expect(leftovers(home)).toEqual([]);
  });

  it('returns the stored snapshot the second time and records both', async () => {
    let clock = Date.parse('2030-01-01T00:00:00.000Z');
    const { artifacts } = setup(() => new Date((clock += 1000)));
    const ctx = context();
    const first = await artifacts.ensureSnapshot(request(ctx));
    writeFileSync(join(ctx, 'server.js'), 'changed after the build\n');
    const second = await artifacts.ensureSnapshot(request(ctx, { who: 'someone else' }));
    expect(second).toEqual(first);
    expect(readFileSync(join(second.dir, 'server.js'), 'utf8')).toBe('console.log("hi")\n');
    const history = await artifacts.history();
    expect(history.map((r) => [r.result, r.who])).toEqual([
      ['cached', 'someone else'],
      ['built', 'tester'],
    ]);
    expect(history[1]).toMatchObject({ id: 'a'.repeat(64), startedAt: '2030-01-01T00:00:01.000Z' });
    expect(history[1]?.durationMs).toBeGreaterThan(0);
    expect(history[0]?.inputs).toBe(history[1]?.inputs);
    expect(await artifacts.history({ limit: 1 })).toEqual(history.slice(0, 1));
    expect(await artifacts.history({ id: 'b'.repeat(64) })).toEqual([]);
  });

  it('refuses a context that changed since it was planned, and stores nothing', async () => {
    const { artifacts, home } = setup();
    const ctx = context();
    const planned = await digestContext(ctx);
    writeFileSync(join(ctx, 'server.js'), 'edited between plan and apply\n');
    await expect(
      artifacts.ensureSnapshot(request(ctx, { digest: planned })),
    ).rejects.toBeInstanceOf(ContextChangedError);
    expect(existsSync(join(home, 'artifacts', 'a'.repeat(64)))).toBe(false);
    expect(leftovers(home)).toEqual([]);
    expect((await artifacts.history())[0]).toMatchObject({ result: 'failed' });
    expect((await artifacts.history())[0]?.error).toMatch(/ARTIFACT_CONTEXT_CHANGED/);
    // With the digest it really has, it is stored.
    await artifacts.ensureSnapshot(request(ctx, { digest: await digestContext(ctx) }));
  });

  it('refuses a stored id whose context digest is not the planned one', async () => {
    const { artifacts } = setup();
    await artifacts.ensureSnapshot(request(context()));
    await expect(
      artifacts.ensureSnapshot(request(context(), { digest: '0'.repeat(64) })),
    ).rejects.toBeInstanceOf(ArtifactCorruptError);
  });

  it('refuses requests it cannot take', async () => {
    const { artifacts } = setup();
    const ctx = context();
    for (const bad of [
      request(ctx, { id: '../escape' }),
      request(ctx, { id: 'logs' }),
      request('relative/path'),
      request(ctx, { dockerfile: 'Dockerfile' }),
      request(ctx, { build: [] }),
      request(ctx, { timeoutMs: 0 }),
    ]) {
      await expect(artifacts.ensureSnapshot(bad)).rejects.toBeInstanceOf(InvalidBuildRequestError);
    }
  });

  it('takes the runtime’s BuildRequest as it is', () => {
    expectTypeOf<BuildRequest>().toExtend<SnapshotRequest>();
  });
});

describe('materialize', () => {
  it('gives each instance a fresh read-only copy, never the stored files', async () => {
    const { artifacts } = setup();
    const snapshot = await artifacts.ensureSnapshot(request(context()));
    const dest = join(tempDir(), 'instance-1');
    expect(await artifacts.materialize(snapshot.id, dest)).toBe(dest);
    expect(await describeTree(dest)).toEqual(await describeTree(snapshot.dir));
    // Tests run as root, whom modes do not stop: assert the bits themselves.
    expect(statSync(join(dest, 'server.js')).mode & 0o7777).toBe(0o444);
    expect(statSync(join(dest, 'bin/start')).mode & 0o7777).toBe(0o555);
    expect(statSync(join(dest, 'bin')).mode & 0o7777).toBe(0o755);
    expect(statSync(dest).mode & 0o7777).toBe(0o755);
    const stored = statSync(join(snapshot.dir, 'server.js'));
    const copy = statSync(join(dest, 'server.js'));
    expect(copy.ino).not.toBe(stored.ino);
    expect(copy.nlink).toBe(1);
    writeFileSync(join(dest, 'server.js'), 'an instance scribbling on its copy\n');
    expect(readFileSync(join(snapshot.dir, 'server.js'), 'utf8')).toBe('console.log("hi")\n');
    expect(sha256(snapshot.archive)).toBe(snapshot.digest);
  });

  it('fails for an unknown id, an existing destination, or a tampered archive', async () => {
    const { artifacts } = setup();
    await expect(
      artifacts.materialize('f'.repeat(64), join(tempDir(), 'x')),
    ).rejects.toBeInstanceOf(ArtifactNotFoundError);
    const snapshot = await artifacts.ensureSnapshot(request(context()));
    await expect(artifacts.materialize(snapshot.id, tempDir())).rejects.toBeInstanceOf(UnpackError);
    const bytes = readFileSync(snapshot.archive);
    // The first byte of the last file's body (then its padding and the end blocks).
    bytes[bytes.length - 1536] = 0x20;
    writeFileSync(snapshot.archive, bytes);
    const dest = join(tempDir(), 'tampered');
    await expect(artifacts.materialize(snapshot.id, dest)).rejects.toBeInstanceOf(
      ArtifactCorruptError,
    );
    expect(existsSync(dest)).toBe(false);
  });
});

describe('get, list and remove', () => {
  it('lists stored artifacts and removes one, keeping its history', async () => {
    const { artifacts, home } = setup();
    const ctx = context();
    await artifacts.ensureSnapshot(request(ctx, { id: 'b'.repeat(64) }));
    await artifacts.ensureSnapshot(request(ctx, { id: 'a'.repeat(64), who: 'ops' }));
    expect((await artifacts.list()).map((a) => a.id)).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
    const info = await artifacts.get('a'.repeat(64));
    expect(info).toMatchObject({ createdBy: 'ops', build: null, contextDigest: info?.digest });
    expect(info?.entries).toBe(7);
    expect(await artifacts.get('../../etc')).toBeUndefined();

    expect(await artifacts.remove('a'.repeat(64))).toBe(true);
    expect(await artifacts.remove('a'.repeat(64))).toBe(false);
    expect(await artifacts.get('a'.repeat(64))).toBeUndefined();
    expect((await artifacts.list()).map((a) => a.id)).toEqual(['b'.repeat(64)]);
    expect(leftovers(home)).toEqual([]);
    expect(await artifacts.history({ id: 'a'.repeat(64) })).toHaveLength(1);
  });
});
