import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { readCurrent, removeStaleTemps, writeFileAtomic } from './atomic-write.js';
import { DestinationWriteError } from './errors.js';

const run = promisify(execFile);
const crashWriter = fileURLToPath(new URL('./testing/crash-writer.ts', import.meta.url));
const tornReader = fileURLToPath(new URL('./testing/torn-reader.mjs', import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drover-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Version `n`: sizes vary a lot so a torn read cannot look complete by chance. */
function version(n: number): string {
  const length = 2_000 + ((n * 7_919) % 400_000);
  const head = `begin ${n} ${length}\n`;
  const tail = `end ${n}\n`;
  return head + '.'.repeat(length - head.length - tail.length) + tail;
}

describe('writeFileAtomic', () => {
  it('creates parent directories and a 0644 file, and leaves no temp file', async () => {
    const path = join(dir, 'a', 'b', 'upstreams.conf');
    await writeFileAtomic(path, 'hello\n');
    expect(await readFile(path, 'utf8')).toBe('hello\n');
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['upstreams.conf']);
  });

  it('keeps the mode of the file it replaces, and replaces the inode', async () => {
    const path = join(dir, 'secret.conf');
    await writeFile(path, 'old');
    await chmod(path, 0o600);
    const before = await stat(path);
    await writeFileAtomic(path, 'new');
    const after = await stat(path);
    expect(after.mode & 0o777).toBe(0o600);
    expect(after.ino).not.toBe(before.ino);
    expect(await readCurrent(path)).toBe('new');
  });

  it('is never seen half-written by a concurrent reader', async () => {
    const path = join(dir, 'torn.conf');
    await writeFileAtomic(path, version(0));
    const reader = spawn(process.execPath, [tornReader, path, '1500'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let report = '';
    reader.stdout.on('data', (chunk: Buffer) => (report += chunk.toString()));
    const exited = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    let running = true;
    void exited.then(() => (running = false));
    let written = 0;
    while (running) await writeFileAtomic(path, version(++written));
    await exited;
    const { reads, versions, bad } = JSON.parse(report) as {
      reads: number;
      versions: number;
      bad: string[];
    };
    expect(bad).toEqual([]);
    // The reader really raced the writer: it saw many complete versions.
    expect(written).toBeGreaterThan(20);
    expect(reads).toBeGreaterThan(20);
    expect(versions).toBeGreaterThan(5);
  });

  it('leaves the old file when the writing process dies mid-write', async () => {
    const path = join(dir, 'upstreams.conf');
    await writeFile(path, 'old and complete\n');
    const crash = run(process.execPath, ['--import', 'tsx', crashWriter, path, String(32 << 20)]);
    await expect(crash).rejects.toMatchObject({ signal: 'SIGKILL' });
    expect(await readFile(path, 'utf8')).toBe('old and complete\n');
    const leftovers = (await readdir(dir)).filter((n) => n.endsWith('.tmp'));
    expect(leftovers).toHaveLength(1);

    // The next renderer's first write sweeps what the dead one left.
    await removeStaleTemps(path);
    expect(await readdir(dir)).toEqual(['upstreams.conf']);
  });

  it('fails with DestinationWriteError when the directory cannot be made', async () => {
    await writeFile(join(dir, 'blocker'), 'a file, not a directory');
    const path = join(dir, 'blocker', 'upstreams.conf');
    const failure = writeFileAtomic(path, 'x');
    await expect(failure).rejects.toBeInstanceOf(DestinationWriteError);
    await expect(failure).rejects.toMatchObject({ code: 'RENDER_WRITE' });
    expect(await readdir(dir)).toEqual(['blocker']);
  });

  it('fails without leaving a temp file when the destination is a directory', async () => {
    const path = join(dir, 'taken');
    await mkdir(path);
    await expect(writeFileAtomic(path, 'x')).rejects.toThrow(/cannot write .*taken/);
    expect(await readdir(dir)).toEqual(['taken']);
  });
});

describe('removeStaleTemps', () => {
  it("removes only this destination's temp files", async () => {
    const path = join(dir, 'a.conf');
    await writeFile(join(dir, '.a.conf.0123456789abcdef.tmp'), 'left by a crash');
    await writeFile(join(dir, '.b.conf.0123456789abcdef.tmp'), 'another file of ours');
    await writeFile(join(dir, 'a.conf.tmp'), 'not ours');
    await removeStaleTemps(path);
    expect((await readdir(dir)).sort()).toEqual(['.b.conf.0123456789abcdef.tmp', 'a.conf.tmp']);
    await removeStaleTemps(join(dir, 'missing-dir', 'x.conf'));
  });
});
