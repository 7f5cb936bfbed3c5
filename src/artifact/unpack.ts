import { constants, createReadStream } from 'node:fs';
import { chmod, link, lstat, mkdir, mkdtemp, open, rename, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';

import type { ReadEntry } from 'tar';

import { ArtifactCorruptError, ArtifactError, UnpackError, UnsafeArchiveError } from './errors.js';
import { removeAfterFailure } from './fs-util.js';
import { entryPath, linkProblem, resolvesInside } from './path-rules.js';
import { readTar } from './tar-reader.js';

export interface UnpackOptions {
  /** Refuse archives whose entries declare more bytes than this (default 4 GiB). */
  readonly maxBytes?: number;
  /** Refuse archives with more entries than this (default 1,000,000). */
  readonly maxEntries?: number;
  /** Files 0444 (executables 0555) instead of 0644/0755. */
  readonly readOnly?: boolean;
  /** Mode of every directory once extracted (default 0755). */
  readonly dirMode?: number;
  /** Expected sha256 of the archive bytes; a mismatch is ArtifactCorruptError. */
  readonly digest?: string;
  readonly signal?: AbortSignal;
}

export interface UnpackResult {
  readonly entries: number;
  /** File bytes written. */
  readonly bytes: number;
  /** sha256 of the archive bytes read. */
  readonly digest: string;
}

const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;
const DEFAULT_MAX_ENTRIES = 1_000_000;

type Kind = 'dir' | 'file' | 'symlink';

/**
 * Extracts a tar archive (a stream, or the path of a file) into `dest`, which
 * must not exist yet. All or nothing: entries go into a private directory next
 * to `dest` that is renamed to `dest` only once every entry was checked and
 * written; on any refusal or failure it is removed and `dest` never appears.
 *
 * Refused with UnsafeArchiveError: absolute paths, `..` components, symbolic
 * links that are absolute or resolve (through other links too) outside
 * `dest`, hard links to anything but a regular file extracted earlier from
 * the same archive, entries under a symbolic link or a file, an entry that
 * exists already (except a directory repeated), device files, FIFOs and every
 * other type, and archives over `maxBytes` or `maxEntries`. Owners, mtimes and
 * special mode bits are not restored: files get 0644/0755 (or 0444/0555).
 */
export async function unpackArchive(
  source: Readable | string,
  dest: string,
  options: UnpackOptions = {},
): Promise<UnpackResult> {
  const target = resolve(dest);
  if (await exists(target)) throw new UnpackError(`cannot unpack into ${target}: it exists`);
  const stream = typeof source === 'string' ? createReadStream(source) : source;
  // Until extract() listens, an error of the source (a file that cannot be opened) must not go unheard.
  let early: Error | undefined;
  const hold = (error: Error): void => {
    early ??= error;
  };
  stream.on('error', hold);
  let staging: string | undefined;
  try {
    await mkdir(dirname(target), { recursive: true });
    // mkdtemp makes it 0700: nothing else writes into it while we check paths.
    staging = await mkdtemp(join(dirname(target), `.${basename(target)}.unpack-`));
    if (early !== undefined) throw early;
    const result = await extract(stream, staging, options);
    stream.off('error', hold);
    await rename(staging, target).catch((error: unknown) => {
      throw new UnpackError(`cannot move the unpacked tree to ${target}`, { cause: error });
    });
    return result;
  } catch (error) {
    stream.destroy();
    if (staging !== undefined) await removeAfterFailure(staging, error);
    // Our own errors (unsafe, corrupt, a context that failed while it was
    // streamed in) already say what happened.
    if (error instanceof ArtifactError || options.signal?.aborted === true) throw error;
    throw new UnpackError(`cannot unpack into ${target}`, { cause: error });
  }
}

async function extract(
  source: Readable,
  root: string,
  options: UnpackOptions,
): Promise<UnpackResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  // What this archive created, by relative path. The staging directory is
  // private, so this map is the truth about it and no lstat race is possible.
  const kinds = new Map<string, Kind>([['', 'dir']]);
  const links = new Map<string, string>();
  const dirs: string[] = [''];
  let entries = 0;
  let bytes = 0;

  const reading = readTar(source as AsyncIterable<Buffer>);
  for await (const { entry, ignored } of reading.items) {
    options.signal?.throwIfAborted();
    const raw = entry.path;
    entries += 1;
    if (entries > maxEntries) {
      throw new UnsafeArchiveError(raw, `more than ${maxEntries} entries`);
    }
    if (ignored) throw new UnsafeArchiveError(raw, `unsupported entry type ${entry.type}`);
    const path = entryPath(raw);
    const kind = kindOf(entry);
    if (path === '') {
      // `./` as the first entry of many archives: the destination itself.
      if (kind !== 'dir') throw new UnsafeArchiveError(raw, 'only a directory may name the root');
      entry.resume();
      continue;
    }
    const existing = kinds.get(path);
    if (existing !== undefined) {
      if (existing === 'dir' && kind === 'dir') {
        entry.resume();
        continue;
      }
      throw new UnsafeArchiveError(raw, `a second entry for an existing ${existing}`);
    }
    await makeParents(root, path, raw, kinds, dirs);
    const full = join(root, path);
    switch (kind) {
      case 'dir':
        await mkdir(full, { mode: 0o700 });
        kinds.set(path, 'dir');
        dirs.push(path);
        entry.resume();
        break;
      case 'file':
        bytes += entry.size;
        if (bytes > maxBytes) throw new UnsafeArchiveError(raw, `more than ${maxBytes} bytes`);
        await writeFile(full, entry, fileMode(entry.mode ?? 0o644, options.readOnly === true));
        kinds.set(path, 'file');
        break;
      case 'symlink': {
        const linkTarget = entry.linkpath ?? '';
        const problem = linkProblem(path, linkTarget);
        if (problem !== undefined) throw new UnsafeArchiveError(raw, `symbolic link ${problem}`);
        await symlink(linkTarget, full);
        kinds.set(path, 'symlink');
        links.set(path, linkTarget);
        entry.resume();
        break;
      }
      case 'hardlink': {
        const source = entryPath(entry.linkpath ?? '', 'hard link target', raw);
        const sourceKind = kinds.get(source);
        if (sourceKind !== 'file') {
          throw new UnsafeArchiveError(
            raw,
            sourceKind === undefined
              ? `hard link to ${JSON.stringify(entry.linkpath)}, not a file of this archive`
              : `hard link to a ${sourceKind === 'symlink' ? 'symbolic link' : sourceKind}`,
          );
        }
        await link(join(root, source), full);
        kinds.set(path, 'file');
        entry.resume();
        break;
      }
    }
  }

  for (const path of links.keys()) {
    if (!resolvesInside(path, links)) {
      throw new UnsafeArchiveError(path, 'symbolic link resolves outside the destination');
    }
  }
  const digest = reading.digest();
  if (options.digest !== undefined && options.digest !== digest) {
    throw new ArtifactCorruptError(options.digest, digest);
  }
  // Deepest first, so that a read-only directory does not stop its children's chmod.
  const dirMode = options.dirMode ?? 0o755;
  for (const dir of dirs.sort((a, b) => depth(b) - depth(a))) await chmod(join(root, dir), dirMode);
  return { entries, bytes, digest };
}

type EntryKind = Kind | 'hardlink';

function kindOf(entry: ReadEntry): EntryKind {
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      return 'file';
    case 'Directory':
      return 'dir';
    case 'SymbolicLink':
      return 'symlink';
    case 'Link':
      return 'hardlink';
    case 'CharacterDevice':
    case 'BlockDevice':
      throw new UnsafeArchiveError(entry.path, 'device file');
    case 'FIFO':
      throw new UnsafeArchiveError(entry.path, 'FIFO');
    default:
      throw new UnsafeArchiveError(entry.path, `unsupported entry type ${entry.type}`);
  }
}

/** Creates missing parent directories; refuses a parent that is a link or a file. */
async function makeParents(
  root: string,
  path: string,
  raw: string,
  kinds: Map<string, Kind>,
  dirs: string[],
): Promise<void> {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i += 1) {
    const parent = parts.slice(0, i).join('/');
    const kind = kinds.get(parent);
    if (kind === 'dir') continue;
    if (kind !== undefined) {
      throw new UnsafeArchiveError(
        raw,
        `written through a ${kind === 'symlink' ? 'symbolic link' : kind} (${parent})`,
      );
    }
    await mkdir(join(root, parent), { mode: 0o700 });
    kinds.set(parent, 'dir');
    dirs.push(parent);
  }
}

/** Writes a new file (never through an existing path or link) with the entry's body. */
async function writeFile(path: string, entry: ReadEntry, mode: number): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(path, flags, 0o600);
  try {
    for await (const chunk of entry) await handle.write(chunk as Buffer);
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

/** 0644 or 0755 (0444/0555 read-only): only the executable bit carries over. */
function fileMode(mode: number, readOnly: boolean): number {
  const executable = (mode & 0o111) !== 0;
  if (readOnly) return executable ? 0o555 : 0o444;
  return executable ? 0o755 : 0o644;
}

function depth(path: string): number {
  return path === '' ? 0 : path.split('/').length;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new UnpackError(`cannot inspect ${path}`, { cause: error });
  }
}
