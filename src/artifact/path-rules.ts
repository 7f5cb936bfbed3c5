import { posix } from 'node:path';

import { UnsafeArchiveError } from './errors.js';

/**
 * The relative path an entry writes to, or a refusal. Any `..` component is
 * refused, even one that would stay inside (`a/../b`): canonical archives never
 * have one, and an archive that does was not made by us. `''` is the root.
 * Refusals name `entry`: the entry's own path, also when `raw` is its link target.
 */
export function entryPath(raw: string, what = 'path', entry = raw): string {
  const refuse = (reason: string): never => {
    throw new UnsafeArchiveError(entry, `${reason}${raw === entry ? '' : ` (${raw})`}`);
  };
  if (raw.includes('\u0000')) refuse(`${what} contains a NUL byte`);
  if (raw.startsWith('/')) refuse(`absolute ${what}`);
  const parts = raw.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) refuse(`${what} leaves the destination`);
  return parts.join('/');
}

/**
 * Why a symbolic link may not be kept, if it may not: its target, read as
 * written from the link's own directory, is absolute or climbs above the
 * root. Links that escape through other links are found by `resolvesInside`
 * once the whole tree is known.
 */
export function linkProblem(path: string, target: string): string | undefined {
  if (target === '') return 'has no target';
  if (target.includes('\u0000')) return 'has a NUL byte in its target';
  if (target.startsWith('/')) return `points to an absolute path (${target})`;
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../')) return `leaves the tree (${target})`;
  return undefined;
}

/**
 * More links than any kernel follows in one lookup (Linux stops at 40): a
 * chain longer than this cannot be followed at all, so it cannot escape.
 */
const MAX_HOPS = 256;

/**
 * Whether following the link at `path` stays inside the tree, following the
 * tree's other links as the kernel would. This catches what a per-link check
 * cannot: `d/up -> ..` is inside, and so is `d/x -> up/..` read as text, but
 * the kernel resolves `up` first and `..` of the root is outside. Components
 * that do not exist are taken as plain names, which can only make the answer
 * stricter. `links` maps every link's path to its target.
 */
export function resolvesInside(path: string, links: ReadonlyMap<string, string>): boolean {
  const start = links.get(path);
  if (start === undefined) return true;
  const at = path.split('/').slice(0, -1);
  const pending = start.split('/').reverse();
  let hops = 0;
  for (let part = pending.pop(); part !== undefined; part = pending.pop()) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (at.length === 0) return false;
      at.pop();
      continue;
    }
    at.push(part);
    const target = links.get(at.join('/'));
    if (target === undefined) continue;
    hops += 1;
    if (hops > MAX_HOPS) return true;
    if (target.startsWith('/')) return false;
    at.pop();
    pending.push(...target.split('/').reverse());
  }
  return true;
}
