import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { DestinationWriteError, reasonOf } from './errors.js';

/** The mode of a file the renderer creates (an existing file keeps its own). */
export const DEFAULT_MODE = 0o644;

/**
 * Replaces `path` with `content` so that a reader sees either the old or the
 * new file, never a mix or a truncated one, even if this process dies midway:
 * the text goes to a temp file in the same directory (same filesystem, so the
 * rename is atomic), is fsynced, then renamed over the destination, and the
 * directory is fsynced so the rename survives a power loss. Parent
 * directories are created. A symlink at `path` is replaced, not followed.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, tempName(path));
  try {
    await mkdir(dir, { recursive: true });
    const mode = await modeOf(path);
    const file = await open(temp, 'wx', mode);
    try {
      await file.writeFile(content);
      // open() applied the umask; the destination's mode must survive as it was.
      await file.chmod(mode);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
    await syncDirectory(dir);
  } catch (error) {
    const leftover = await unlink(temp).then(
      () => undefined,
      (cleanup: unknown) => (isNotFound(cleanup) ? undefined : cleanup),
    );
    const cause =
      leftover === undefined
        ? error
        : new AggregateError([error, leftover], `${reasonOf(error)} (and cannot delete ${temp})`);
    throw new DestinationWriteError(path, { cause });
  }
}

/** The destination's text, or undefined when there is no file yet. */
export async function readCurrent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new DestinationWriteError(path, { cause: error });
  }
}

/**
 * Deletes temp files a crashed writer of `path` left behind. They never match
 * the destination's name or extension (`.<name>.<random>.tmp`), so a glob
 * such as nginx's `include conf.d/*.conf` never picks one up meanwhile.
 */
export async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return;
    throw new DestinationWriteError(path, { cause: error });
  }
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(path))}\\.[0-9a-f]{16}\\.tmp$`);
  for (const name of names.filter((n) => pattern.test(n))) {
    await unlink(join(dir, name)).catch((error: unknown) => {
      if (!isNotFound(error)) throw new DestinationWriteError(path, { cause: error });
    });
  }
}

function tempName(path: string): string {
  return `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`;
}

async function modeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).mode & 0o7777;
  } catch (error) {
    if (isNotFound(error)) return DEFAULT_MODE;
    throw error;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
