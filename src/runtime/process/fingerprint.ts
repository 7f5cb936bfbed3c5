import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

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
 * sha256 of every file under `root` (symlinks as `link:TARGET`), keyed by
 * relative path, not following links out of the tree and skipping `skip`
 * (mount points, whose content is declared state, not the artifact).
 */
export async function hashTree(
  root: string,
  skip: ReadonlySet<string> = new Set(),
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      if (skip.has(path)) continue;
      const full = join(root, path);
      const stat = await lstat(full);
      if (stat.isDirectory()) await walk(path);
      else if (stat.isSymbolicLink()) out[path] = `link:${await readlink(full)}`;
      else if (stat.isFile()) out[path] = await hashFile(full);
    }
  };
  await walk('');
  return out;
}
