import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

import dockerignoreModule from '@balena/dockerignore';

import { ContextError } from './errors.js';
import { linkProblem, resolvesInside } from './path-rules.js';

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

export interface ListOptions {
  /**
   * Apply `.droverignore` / `.dockerignore` (default true). A build's output is
   * listed without them: what the build made is the artifact, whatever the
   * context chose not to send to it.
   */
  readonly ignoreFiles?: boolean;
}

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
export async function listContext(dir: string, options: ListOptions = {}): Promise<ContextEntry[]> {
  let rootStat;
  try {
    rootStat = await lstat(dir);
  } catch (error) {
    throw new ContextError(`context ${dir} does not exist`, { cause: error });
  }
  if (!rootStat.isDirectory()) throw new ContextError(`context ${dir} is not a directory`);
  const ignored = options.ignoreFiles === false ? () => false : await ignoreRules(dir);
  const entries: ContextEntry[] = [];

  const walk = async (relDir: string): Promise<void> => {
    const names = await inContext(dir, relDir, () => readdir(join(dir, relDir)));
    const rels = names
      .map((name) => (relDir === '' ? name : `${relDir}/${name}`))
      .filter((rel) => !ignored(rel));
    // A directory's entries are examined together (and subdirectories walked
    // together): one at a time, the thread pool would idle between calls.
    const found = await Promise.all(rels.map((rel) => describeEntry(dir, rel)));
    entries.push(...found);
    await Promise.all(
      found.filter((entry) => entry.type === 'dir').map((entry) => walk(entry.path)),
    );
  };
  await walk('');
  // UTF-8 byte order (neither locale order nor JavaScript's UTF-16 `<`): the
  // same on every machine, and the order canonical archives are written in.
  const keyed = entries.map((entry) => ({ entry, key: Buffer.from(entry.path, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const sorted = keyed.map(({ entry }) => entry);
  checkLinks(dir, sorted);
  return sorted;
}

async function describeEntry(dir: string, rel: string): Promise<ContextEntry> {
  const full = join(dir, rel);
  const stat = await inContext(dir, rel, () => lstat(full));
  if (stat.isDirectory()) return { path: rel, type: 'dir', mode: 0o755, size: 0 };
  if (stat.isFile()) {
    return { path: rel, type: 'file', mode: stat.mode & 0o111 ? 0o755 : 0o644, size: stat.size };
  }
  if (stat.isSymbolicLink()) {
    const target = await inContext(dir, rel, () => readlink(full));
    return { path: rel, type: 'symlink', mode: 0o777, size: 0, target };
  }
  throw new ContextError(
    `${rel} in context ${dir} is a device, socket or FIFO; artifacts hold files only`,
  );
}

/**
 * A snapshot is unpacked wherever an instance runs, and unpacking refuses
 * links that lead out of it; refusing them here says so at plan time, naming
 * the link, rather than when the artifact is built.
 */
function checkLinks(dir: string, entries: readonly ContextEntry[]): void {
  const links = new Map<string, string>();
  for (const entry of entries)
    if (entry.type === 'symlink') links.set(entry.path, entry.target ?? '');
  for (const [path, target] of links) {
    const problem =
      linkProblem(path, target) ??
      (resolvesInside(path, links) ? undefined : `leads out through other links (${target})`);
    if (problem !== undefined) {
      throw new ContextError(
        `symbolic link ${path} in context ${dir} ${problem}; an artifact holds only links within itself`,
      );
    }
  }
}

/** Runs a file system call on part of a context, failing with ContextError. */
async function inContext<T>(dir: string, rel: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new ContextError(`cannot read ${rel === '' ? '.' : rel} in context ${dir}`, {
      cause: error,
    });
  }
}
