import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lstat, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { ArtifactStoreError } from './errors.js';

/**
 * Removes a tree, including one with read-only directories (stored snapshots
 * are 0555, and builds such as Go's module cache leave some): those stop a
 * non-root `rm` from deleting their entries, so they are made writable first.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw error;
  }
  await makeDirsWritable(path);
  await rm(path, { recursive: true, force: true });
}

async function makeDirsWritable(path: string): Promise<void> {
  const stat = await lstat(path);
  if (!stat.isDirectory()) return;
  await chmod(path, 0o700);
  for (const name of await readdir(path)) await makeDirsWritable(join(path, name));
}

/**
 * Removes what a failed operation left at `path`. When that fails too, the
 * failure says so, with the original error as its cause, rather than hiding
 * either.
 */
export async function removeAfterFailure(path: string, failure: unknown): Promise<void> {
  try {
    await removeTree(path);
  } catch (error) {
    const message = failure instanceof Error ? failure.message : String(failure);
    throw new ArtifactStoreError(
      `${message}; and ${path} could not be removed: ${(error as Error).message}`,
      { cause: failure },
    );
  }
}

/** Writes a stream to a new file (never over an existing one), returning the bytes' sha256 and size. */
export async function writeHashed(
  source: Readable,
  path: string,
): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    source,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(path, { flags: 'wx', mode: 0o444 }),
  );
  return { digest: hash.digest('hex'), size };
}

/** The last `lines` lines of a text file, reading at most its last `maxBytes` bytes. */
export async function tailOfFile(path: string, lines = 20, maxBytes = 8192): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8').replace(/\n$/, '');
    const all = text.split('\n');
    // Reading from the middle of the file cuts the first line: leave it out.
    const whole = start > 0 ? all.slice(1) : all;
    return whole.slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}
