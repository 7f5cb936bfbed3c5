import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { canonicalArchive } from './archive.js';
import { ArtifactCorruptError, UnpackError, UnsafeArchiveError } from './errors.js';
import type { RawEntry } from './testing/raw-tar.js';
import { rawTar } from './testing/raw-tar.js';
import { describeTree, removeTemps, tempDir, writeTree } from './testing/tree.js';
import { unpackArchive } from './unpack.js';

afterEach(removeTemps);

/** A workspace: `dest` to unpack into, `outside` next to it with one secret file to protect. */
let base: string;
let dest: string;
let outside: string;
beforeEach(() => {
  base = tempDir();
  dest = join(base, 'dest');
  outside = join(base, 'outside');
  writeTree(base, { 'outside/secret': 'do not touch\n' });
});

/** Nothing was written anywhere: no dest, no staging left over, the outside untouched. */
function expectUntouched(): void {
  expect(readdirSync(base).sort()).toEqual(['outside']);
  expect(readdirSync(outside)).toEqual(['secret']);
  expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('do not touch\n');
  expect(statSync(join(outside, 'secret')).nlink).toBe(1);
  expect(existsSync('/evil')).toBe(false);
}

async function refusal(entries: readonly RawEntry[], options = {}): Promise<UnsafeArchiveError> {
  const error: unknown = await unpackArchive(Readable.from([rawTar(entries)]), dest, options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UnsafeArchiveError);
  expect((error as UnsafeArchiveError).code).toBe('ARTIFACT_UNSAFE');
  expectUntouched();
  return error as UnsafeArchiveError;
}

interface Case {
  readonly name: string;
  readonly entries: () => RawEntry[];
  /** The entry the refusal names. */
  readonly entry: () => string;
}

const corpus: Case[] = [
  {
    name: 'an absolute path',
    entries: () => [{ name: `${outside}/evil`, body: 'x' }],
    entry: () => `${outside}/evil`,
  },
  {
    name: 'a .. component',
    entries: () => [{ name: '../outside/evil', body: 'x' }],
    entry: () => '../outside/evil',
  },
  {
    name: 'a .. that escapes after normalisation',
    entries: () => [{ name: 'a/./b/../../../outside/evil', body: 'x' }],
    entry: () => 'a/./b/../../../outside/evil',
  },
  {
    name: 'a .. in a pax path',
    entries: () => [{ name: 'benign.txt', pax: { path: '../outside/evil' }, body: 'x' }],
    entry: () => '../outside/evil',
  },
  {
    name: 'a .. in a GNU long name',
    entries: () => [{ name: 'benign.txt', longName: '../../outside/evil', body: 'x' }],
    entry: () => '../../outside/evil',
  },
  {
    name: 'a symbolic link to an absolute path',
    entries: () => [{ name: 'etc', type: '2', linkname: outside }],
    entry: () => 'etc',
  },
  {
    name: 'a symbolic link that climbs out',
    entries: () => [{ name: 'sub/up', type: '2', linkname: '../../outside' }],
    entry: () => 'sub/up',
  },
  {
    name: 'a symbolic link that escapes through another link',
    entries: () => [
      { name: 'd1/d2/top', type: '2', linkname: '../..' },
      { name: 'd1/d2/out', type: '2', linkname: 'top/../outside' },
    ],
    entry: () => 'd1/d2/out',
  },
  {
    name: 'writing through an escaping link (a -> outside, then a/passwd)',
    entries: () => [
      { name: 'a', type: '2', linkname: outside },
      { name: 'a/passwd', body: 'root::0:0::/:/bin/sh\n' },
    ],
    entry: () => 'a',
  },
  {
    // The link passes the check of its own text and is caught only once the
    // tree is known; writing through it is refused before that.
    name: 'writing through a link that escapes through another link',
    entries: () => [
      { name: 'd1/d2/top', type: '2', linkname: '../..' },
      { name: 'd1/d2/out', type: '2', linkname: 'top/../outside' },
      { name: 'd1/d2/out/evil', body: 'x' },
    ],
    entry: () => 'd1/d2/out/evil',
  },
  {
    name: 'writing through a link that stays inside',
    entries: () => [
      { name: 'real/', type: '5' },
      { name: 'a', type: '2', linkname: 'real' },
      { name: 'a/file', body: 'x' },
    ],
    entry: () => 'a/file',
  },
  {
    name: 'a second entry replacing a file with a link',
    entries: () => [
      { name: 'f', body: 'x' },
      { name: 'f', type: '2', linkname: 'g' },
    ],
    entry: () => 'f',
  },
  {
    name: 'a file under a file',
    entries: () => [
      { name: 'f', body: 'x' },
      { name: 'f/g', body: 'y' },
    ],
    entry: () => 'f/g',
  },
  {
    name: 'a hard link outside',
    entries: () => [{ name: 'hl', type: '1', linkname: '../outside/secret' }],
    entry: () => 'hl',
  },
  {
    name: 'a hard link to an absolute path',
    entries: () => [{ name: 'hl', type: '1', linkname: `${outside}/secret` }],
    entry: () => 'hl',
  },
  {
    name: 'a hard link to a symbolic link (which would move the link elsewhere)',
    entries: () => [
      { name: 'sub/s', type: '2', linkname: '..' },
      { name: 'x', type: '1', linkname: 'sub/s' },
    ],
    entry: () => 'x',
  },
  {
    name: 'a hard link to nothing extracted',
    entries: () => [{ name: 'x', type: '1', linkname: 'later' }],
    entry: () => 'x',
  },
  {
    name: 'a character device',
    entries: () => [{ name: 'null', type: '3' }],
    entry: () => 'null',
  },
  { name: 'a block device', entries: () => [{ name: 'sda', type: '4' }], entry: () => 'sda' },
  { name: 'a FIFO', entries: () => [{ name: 'pipe', type: '6' }], entry: () => 'pipe' },
  {
    name: 'a sparse file',
    entries: () => [{ name: 'sparse', type: 'S', body: 'x' }],
    entry: () => 'sparse',
  },
  { name: 'an unknown type', entries: () => [{ name: 'odd', type: 'Z' }], entry: () => 'odd' },
];

describe('unpackArchive refuses a malicious archive and writes nothing', () => {
  for (const test of corpus) {
    it(test.name, async () => {
      const error = await refusal([{ name: 'first.txt', body: 'ok' }, ...test.entries()]);
      expect(error.entry).toBe(test.entry());
    });
  }

  it('over the entry limit', async () => {
    const entries = ['a', 'b', 'c'].map((name) => ({ name, body: name }));
    expect((await refusal(entries, { maxEntries: 2 })).entry).toBe('c');
  });

  it('over the size limit, before writing the body', async () => {
    const entries = [{ name: 'big', body: Buffer.alloc(5000) }];
    expect((await refusal(entries, { maxBytes: 4096 })).reason).toMatch(/more than 4096 bytes/);
  });
});

describe('unpackArchive', () => {
  it('round-trips a canonical archive: same listing, modes and content', async () => {
    const source = writeTree(tempDir(), {
      'a.txt': 'alpha\n',
      'bin/run': { content: '#!/bin/sh\n', mode: 0o755 },
      'lib/link': { link: '../a.txt' },
      'lib/dir-link': { link: '../bin' },
      [`${'x'.repeat(90)}/${'y'.repeat(90)}/long.txt`]: 'long\n',
      'ünïcode/é.txt': 'é\n',
      'empty/': { dir: true },
      blank: '',
      'big.bin': Buffer.alloc(300_000, 7),
    });
    const result = await unpackArchive(canonicalArchive(source), dest);
    expect(await describeTree(dest)).toEqual(await describeTree(source));
    expect(result.entries).toBe((await describeTree(source)).length);
    expect(statSync(join(dest, 'bin/run')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dest, 'a.txt')).mode & 0o777).toBe(0o644);
    expect(readdirSync(base).sort()).toEqual(['dest', 'outside']);
  });

  it('makes files read-only and sets directory modes when asked', async () => {
    const source = writeTree(tempDir(), { 'a/b.txt': 'b', 'a/run': { content: '', mode: 0o700 } });
    await unpackArchive(canonicalArchive(source), dest, { readOnly: true, dirMode: 0o555 });
    expect(statSync(join(dest, 'a/b.txt')).mode & 0o7777).toBe(0o444);
    expect(statSync(join(dest, 'a/run')).mode & 0o7777).toBe(0o555);
    expect(statSync(join(dest, 'a')).mode & 0o7777).toBe(0o555);
    expect(statSync(dest).mode & 0o7777).toBe(0o555);
  });

  it('reads archives made by GNU tar, with ./ entries and hard links', async () => {
    const source = writeTree(tempDir(), { 'one.txt': 'same\n', 'sub/x': 'x' });
    linkSync(join(source, 'one.txt'), join(source, 'two.txt'));
    const tar = join(tempDir(), 'gnu.tar');
    execFileSync('tar', ['-cf', tar, '-C', source, '.']);
    await unpackArchive(tar, dest);
    expect(await describeTree(dest)).toEqual(await describeTree(source));
    expect(statSync(join(dest, 'two.txt')).ino).toBe(statSync(join(dest, 'one.txt')).ino);
  });

  it('accepts links that loop or dangle inside, and drops special mode bits', async () => {
    const archive = rawTar([
      { name: 'loop-1', type: '2', linkname: 'loop-2' },
      { name: 'loop-2', type: '2', linkname: 'loop-1' },
      { name: 'd/self', type: '2', linkname: '../d/self' },
      { name: 'd/dangling', type: '2', linkname: 'nothing/../../loop-1' },
      { name: 'suid', body: '#!/bin/sh\n', mode: 0o6755 },
    ]);
    await unpackArchive(Readable.from([archive]), dest);
    expect(readdirSync(dest).sort()).toEqual(['d', 'loop-1', 'loop-2', 'suid']);
    expect(statSync(join(dest, 'suid')).mode & 0o7777).toBe(0o755);
  });

  it('unpacks an empty archive into an empty directory', async () => {
    await unpackArchive(canonicalArchive(tempDir()), dest);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('checks the digest of the archive when given one', async () => {
    const source = writeTree(tempDir(), { 'a.txt': 'a' });
    const error = await unpackArchive(canonicalArchive(source), dest, { digest: '0'.repeat(64) })
      .then(() => undefined)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArtifactCorruptError);
    expectUntouched();
  });

  const damaged: [string, () => Buffer][] = [
    ['a bad checksum', () => rawTar([{ name: 'a', body: 'x', badChecksum: true }])],
    ['a body cut short', () => rawTar([{ name: 'a', body: Buffer.alloc(2000) }]).subarray(0, 1200)],
    ['no end-of-archive blocks', () => rawTar([{ name: 'a', body: 'x' }], { end: false })],
    ['no data at all', () => Buffer.alloc(0)],
    ['something that is not tar', () => Buffer.from('hello, world\n'.repeat(100))],
  ];
  for (const [name, bytes] of damaged) {
    it(`fails with UnpackError for ${name}`, async () => {
      await expect(unpackArchive(Readable.from([bytes()]), dest)).rejects.toBeInstanceOf(
        UnpackError,
      );
      expectUntouched();
    });
  }

  it('refuses a destination that exists', async () => {
    writeFileSync(join(base, 'dest'), '');
    await expect(unpackArchive(canonicalArchive(tempDir()), dest)).rejects.toThrow(/it exists/);
  });
});
