import type { Readable } from 'node:stream';

import { canonicalArchive, listContext } from '../../artifact/index.js';

import { InvalidSpecError } from './errors.js';

/**
 * The build context as the engine gets it: the context's canonical archive
 * (what .droverignore/.dockerignore leave, with fixed modes, owners and
 * times), the same bytes the artifact's digest is computed over.
 *
 * `docker build` would send an ignored Dockerfile anyway; the canonical
 * archive holds exactly the context's listing, so an ignored (or missing)
 * Dockerfile is refused here, by name, rather than by the engine.
 */
export async function contextArchive(dir: string, dockerfile: string): Promise<Readable> {
  const entries = await listContext(dir);
  if (!entries.some((entry) => entry.path === dockerfile && entry.type === 'file')) {
    throw new InvalidSpecError(
      `${dockerfile} is not a file of context ${dir} (missing, or excluded by its ignore file)`,
    );
  }
  return canonicalArchive(dir);
}
