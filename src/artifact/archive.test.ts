import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lchownSync,
  mkdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { canonicalArchive, digestContext } from './archive.js';
import { listContext } from './context.js';
import { ContextError } from './errors.js';
import { removeTemps, tempDir, writeTree } from './testing/tree.js';

afterEach(removeTemps);

async function archiveBytes(dir: string, ignoreFiles = true): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of canonicalArchive(dir, { ignoreFiles })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The same content, written in the given order, with the given mtime and owner. */
function sample(order: 'forward' | 'backward', time: number, owner: number): string {
  const dir = tempDir();
  const steps: (() => void)[] = [
    () => writeFileSync(join(dir, 'a.txt'), 'alpha\n', { mode: 0o600 }),
    () => writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o700 }),
    () => mkdirSync(join(dir, 'lib/deep'), { recursive: true, mode: 0o700 }),
    () => writeFileSync(join(dir, 'lib/deep/z.js'), 'export {};\n', { mode: 0o664 }),
    () => symlinkSync('../a.txt', join(dir, 'lib/a-link')),
    () => mkdirSync(join(dir, 'empty')),
    () => writeFileSync(join(dir, 'blank'), ''),
  ];
  for (const step of order === 'forward' ? steps : [...steps].reverse()) {
    try {
      step();
    } catch {
      // Backwards, a file may come before its directory: make the parent first.
      mkdirSync(join(dir, 'lib/deep'), { recursive: true, mode: 0o700 });
      step();
    }
  }
  for (const path of ['a.txt', 'run.sh', 'lib', 'lib/deep', 'lib/deep/z.js', 'empty', 'blank']) {
    utimesSync(join(dir, path), time, time);
    if (process.getuid?.() === 0) chownSync(join(dir, path), owner, owner);
  }
  if (process.getuid?.() === 0) lchownSync(join(dir, 'lib/a-link'), owner, owner);
  return dir;
}

describe('canonicalArchive', () => {
  it('gives identical bytes for the same content, whatever mtimes, owners, modes or order', async () => {
    const one = sample('forward', 1_000_000, 0);
    const two = sample('backward', 1_700_000_000, 4321);
    const [a, b] = [await archiveBytes(one), await archiveBytes(two)];
    expect(a.equals(b)).toBe(true);
    expect(await digestContext(one)).toBe(await digestContext(two));
    expect(await digestContext(one)).toBe(sha256(a));
  });

  it('writes normalised ustar headers that GNU tar reads', async () => {
    const dir = sample('forward', 1_000_000, 4321);
    const long = `${'d'.repeat(80)}/${'e'.repeat(80)}/file-with-a-long-name.txt`;
    writeTree(dir, { [long]: 'deep\n', 'lib/été.txt': 'unicode\n' });
    const tar = join(tempDir(), 'a.tar');
    writeFileSync(tar, await archiveBytes(dir));
    const listing = execFileSync('tar', ['-tvf', tar, '--numeric-owner'], { encoding: 'utf8' });
    for (const line of listing.trim().split('\n')) {
      expect(line).toMatch(
        /^(-rw-r--r--|-rwxr-xr-x|drwxr-xr-x|lrwxrwxrwx) 0\/0 +\d+ 1970-01-01 00:00 /,
      );
    }
    expect(listing).toContain('-rwxr-xr-x 0/0              18 1970-01-01 00:00 run.sh');
    expect(listing).toContain(
      'lrwxrwxrwx 0/0               0 1970-01-01 00:00 lib/a-link -> ../a.txt',
    );
    expect(listing).toContain(long);
    const names = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).trim().split('\n');
    const expected = (await listContext(dir)).map((e) =>
      e.type === 'dir' ? `${e.path}/` : e.path,
    );
    expect(names).toEqual(expected);
  });

  it('changes the digest for a changed file, mode bit, symlink target or name', async () => {
    const dir = sample('forward', 0, 0);
    const digests = [await digestContext(dir)];
    writeFileSync(join(dir, 'a.txt'), 'alpha!\n');
    digests.push(await digestContext(dir));
    chmodSync(join(dir, 'a.txt'), 0o755);
    digests.push(await digestContext(dir));
    rmSync(join(dir, 'lib/a-link'));
    symlinkSync('../run.sh', join(dir, 'lib/a-link'));
    expect(readlinkSync(join(dir, 'lib/a-link'))).toBe('../run.sh');
    digests.push(await digestContext(dir));
    execFileSync('mv', [join(dir, 'blank'), join(dir, 'blank2')]);
    digests.push(await digestContext(dir));
    mkdirSync(join(dir, 'another-empty-dir'));
    digests.push(await digestContext(dir));
    expect(new Set(digests).size).toBe(digests.length);
  });

  it('honours .droverignore, else .dockerignore, and not when told to include everything', async () => {
    const base = writeTree(tempDir(), { 'app.js': 'x', '.droverignore': '*.log\ntmp\n' });
    const before = await digestContext(base);
    writeTree(base, { 'debug.log': 'noise', 'tmp/cache.bin': 'noise' });
    expect(await digestContext(base)).toBe(before);
    expect((await listContext(base)).map((e) => e.path)).toEqual(['.droverignore', 'app.js']);
    expect(await digestContext(base, { ignoreFiles: false })).not.toBe(before);

    const docker = writeTree(tempDir(), { 'app.js': 'x', '.dockerignore': 'secret.env\n' });
    const clean = await digestContext(docker);
    writeTree(docker, { 'secret.env': 'TOKEN=1' });
    expect(await digestContext(docker)).toBe(clean);
  });

  it('streams a large context and matches the bytes it writes', async () => {
    const dir = tempDir();
    for (let d = 0; d < 20; d += 1) {
      mkdirSync(join(dir, `d${d}`));
      for (let f = 0; f < 100; f += 1)
        writeFileSync(join(dir, `d${d}`, `f${f}.txt`), `${d}/${f}\n`);
    }
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(6 * 1024 * 1024 + 7, 0xab));
    const bytes = await archiveBytes(dir);
    expect(bytes.length % 512).toBe(0);
    expect(await digestContext(dir)).toBe(sha256(bytes));
  });

  it('is an empty archive (two zero blocks) for an empty directory', async () => {
    expect((await archiveBytes(tempDir())).equals(Buffer.alloc(1024))).toBe(true);
  });

  it('refuses links that lead out of the context, and keeps those within it', async () => {
    const inside = writeTree(tempDir(), {
      'a.txt': 'a',
      'loop-1': { link: 'loop-2' },
      'loop-2': { link: 'loop-1' },
      'sub/up': { link: '..' },
      'sub/dangling': { link: 'missing' },
    });
    expect((await listContext(inside)).filter((e) => e.type === 'symlink')).toHaveLength(4);
    for (const [name, link] of [
      ['absolute', '/etc/passwd'],
      ['climbing', '../outside'],
      ['sub/through-another', 'up/..'],
    ] as const) {
      const dir = writeTree(tempDir(), { 'sub/up': { link: '..' }, [name]: { link } });
      await expect(digestContext(dir)).rejects.toThrow(
        new RegExp(`symbolic link ${name} in context .* (absolute|leaves|leads out)`),
      );
    }
  });

  it('fails with ContextError for a FIFO, a missing context or a file', async () => {
    const dir = writeTree(tempDir(), { 'a.txt': 'x' });
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    await expect(digestContext(dir)).rejects.toBeInstanceOf(ContextError);
    await expect(digestContext(join(dir, 'missing'))).rejects.toBeInstanceOf(ContextError);
    await expect(digestContext(join(dir, 'a.txt'))).rejects.toBeInstanceOf(ContextError);
  });
});
