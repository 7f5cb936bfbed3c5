import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

import dockerignoreModule from '@balena/dockerignore';

import { ContextError } from './errors.js';

/** One entry of an artifact's context, as it will be archived. */
export interface ContextEntry {
  /** Relative POSIX path inside the context. */
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink';
  /** Normalised permissions: 0o755 for executables and directories, else 0o644. */
  readonly mode: number;
  readonly size: number;
  /** For symbolic links: the target, as written. */
  readonly target?: string;
}

// The package is CommonJS (`module.exports = factory`) but its types declare a
// default export; under NodeNext the default import is the factory itself.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

const IGNORE_FILES = ['.droverignore', '.dockerignore'] as const;

/** The ignore rules of a context: `.droverignore`, else `.dockerignore` (Docker's syntax). */
async function ignoreRules(dir: string): Promise<(path: string) => boolean> {
  for (const name of IGNORE_FILES) {
    let text: string;
    try {
      text = await readFile(join(dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ContextError(`cannot read ${name}: ${(error as Error).message}`, { cause: error });
    }
    const rules = dockerignore().add(text.split(/\r?\n/));
    return (path) => rules.ignores(path);
  }
  return () => false;
}

/**
 * Every entry of the context that is not ignored, sorted by path so that the
 * listing (and everything hashed from it) does not depend on the file system.
 * Device files, sockets and FIFOs have no place in an artifact and are refused.
 */
export async function listContext(dir: string): Promise<ContextEntry[]> {
  let rootStat;
  try {
    rootStat = await lstat(dir);
  } catch (error) {
    throw new ContextError(`context ${dir} does not exist`, { cause: error });
  }
  if (!rootStat.isDirectory()) throw new ContextError(`context ${dir} is not a directory`);
  const ignored = await ignoreRules(dir);
  const entries: ContextEntry[] = [];

  const walk = async (relDir: string): Promise<void> => {
    const names = (await readdir(join(dir, relDir))).sort();
    for (const name of names) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      if (ignored(rel)) continue;
      const full = join(dir, rel);
      const stat = await lstat(full);
      if (stat.isDirectory()) {
        entries.push({ path: rel, type: 'dir', mode: 0o755, size: 0 });
        await walk(rel);
      } else if (stat.isFile()) {
        entries.push({
          path: rel,
          type: 'file',
          mode: stat.mode & 0o111 ? 0o755 : 0o644,
          size: stat.size,
        });
      } else if (stat.isSymbolicLink()) {
        entries.push({
          path: rel,
          type: 'symlink',
          mode: 0o777,
          size: 0,
          target: await readlink(full),
        });
      } else {
        throw new ContextError(
          `${rel} in context ${dir} is a device, socket or FIFO; artifacts hold files only`,
        );
      }
    }
  };
  await walk('');
  // Byte order, not locale order: the same on every machine.
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * The content address of a context: sha256 over its canonical listing, each
 * entry with its type, normalised mode, path and content hash (or link
 * target). Timestamps and owners are left out: they are not content.
 */
export async function digestContext(dir: string): Promise<string> {
  const entries = await listContext(dir);
  const digest = createHash('sha256');
  for (const entry of entries) {
    const content =
      entry.type === 'file'
        ? await hashFile(join(dir, entry.path))
        : entry.type === 'symlink'
          ? entry.target
          : '';
    digest.update(
      `${entry.type} ${entry.mode.toString(8)} ${JSON.stringify(entry.path)} ${content}\n`,
    );
  }
  return digest.digest('hex');
}
