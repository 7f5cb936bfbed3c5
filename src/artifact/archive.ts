import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import type { ContextEntry, ListOptions } from './context.js';
import { listContext } from './context.js';
import { ContextError } from './errors.js';
import { encodeEntryHeader, END_OF_ARCHIVE, padding } from './tar-format.js';

/** Bytes per read and the size small pieces are gathered into before they are passed on. */
const CHUNK_SIZE = 64 * 1024;

/**
 * The canonical archive of a directory: a tar stream of exactly what
 * `listContext` lists, in its order, with modes normalised (0644/0755 files,
 * 0755 directories), owners 0 and unnamed, mtime 0, symbolic links kept as
 * links. The same content always gives the same bytes, whatever the
 * timestamps, owners or directory order; it is what a snapshot is and what a
 * context's digest is computed over. Streamed: memory stays constant however
 * large the context. A file that changes while it is read fails the stream
 * with ContextError rather than giving an archive of a state that never was.
 */
export function canonicalArchive(dir: string, options: ListOptions = {}): Readable {
  return Readable.from(archiveChunks(dir, options), { objectMode: false });
}

/** The content address of a context: sha256 of its canonical archive. */
export async function digestContext(dir: string, options: ListOptions = {}): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of canonicalArchive(dir, options)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Files up to this size are read whole, several at a time, ahead of where the archive is. */
const SMALL_FILE = CHUNK_SIZE;
/** How many small files may be read ahead (at most PREFETCH × SMALL_FILE bytes held). */
const PREFETCH = 32;

async function* archiveChunks(dir: string, options: ListOptions): AsyncGenerator<Buffer> {
  const entries = await listContext(dir, options);
  // One small file at a time, each open/stat/read/close waits on the thread
  // pool in turn; reading a few ahead keeps it busy.
  const ahead = new Map<number, Promise<Buffer>>();
  let scanned = 0;
  const readAhead = (): void => {
    for (; scanned < entries.length && ahead.size < PREFETCH; scanned += 1) {
      const entry = entries[scanned];
      if (entry?.type !== 'file' || entry.size > SMALL_FILE) continue;
      const reading = readSmallFile(dir, entry);
      // Handled when its turn comes; until then, a failure must not count as unhandled.
      reading.catch(() => undefined);
      ahead.set(scanned, reading);
    }
  };
  // Thousands of small files would otherwise mean thousands of tiny chunks
  // through the stream machinery; gather them into pieces of CHUNK_SIZE.
  const batch = new Batch();
  for (const [index, entry] of entries.entries()) {
    readAhead();
    batch.add(
      encodeEntryHeader({
        path: entry.path,
        type: entry.type,
        mode: entry.mode,
        size: entry.type === 'file' ? entry.size : 0,
        ...(entry.target === undefined ? {} : { linkpath: entry.target }),
      }),
    );
    const early = ahead.get(index);
    if (early !== undefined) {
      ahead.delete(index);
      batch.add(await early);
    } else if (entry.type === 'file') {
      for await (const piece of fileContent(dir, entry)) {
        batch.add(piece);
        if (batch.full) yield batch.take();
      }
    }
    if (entry.type === 'file') batch.add(padding(entry.size));
    if (batch.full) yield batch.take();
  }
  batch.add(END_OF_ARCHIVE);
  yield batch.take();
}

async function readSmallFile(dir: string, entry: ContextEntry): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of fileContent(dir, entry)) pieces.push(piece);
  return Buffer.concat(pieces);
}

/**
 * Exactly `entry.size` bytes of a listed file. Opened without following links
 * and checked again, so that a file swapped for a link or resized after it was
 * listed cannot put other bytes (or bytes from outside the context) in.
 */
async function* fileContent(dir: string, entry: ContextEntry): AsyncGenerator<Buffer> {
  const path = join(dir, entry.path);
  const changed = (how: string): ContextError =>
    new ContextError(`${entry.path} in context ${dir} ${how} while it was archived`);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    throw new ContextError(`cannot read ${entry.path} in context ${dir}`, { cause: error });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size !== entry.size) throw changed('changed');
    let position = 0;
    for (;;) {
      // One byte more than is left, so that a file that grew is noticed.
      const want = Math.min(CHUNK_SIZE, entry.size - position + 1);
      const buffer = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      if (position + bytesRead > entry.size) throw changed('grew');
      if (bytesRead === 0) {
        if (position < entry.size) throw changed('shrank');
        return;
      }
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
      // A short read of a regular file is its end: no second read for small files.
      if (bytesRead < want && position === entry.size) return;
    }
  } finally {
    await handle.close();
  }
}

class Batch {
  #pieces: Buffer[] = [];
  #size = 0;

  get full(): boolean {
    return this.#size >= CHUNK_SIZE;
  }

  add(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#pieces.push(piece);
    this.#size += piece.length;
  }

  take(): Buffer {
    const pieces = this.#pieces;
    this.#pieces = [];
    this.#size = 0;
    return pieces.length === 1 && pieces[0] !== undefined ? pieces[0] : Buffer.concat(pieces);
  }
}
