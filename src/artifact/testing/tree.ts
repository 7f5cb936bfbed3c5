import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { listContext } from '../context.js';

const made: string[] = [];

/** A fresh temporary directory, removed by `removeTemps`. */
export function tempDir(prefix = 'drover-artifact-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTemps(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Writes a tree: a string or Buffer is a file, `{ link }` a symbolic link,
 * `{ dir: true }` a directory, `{ content, mode }` a file with a mode.
 */
export type TreeSpec = Readonly<
  Record<
    string,
    | string
    | Buffer
    | { readonly link: string }
    | { readonly dir: true }
    | { readonly content: string; readonly mode: number }
  >
>;

export function writeTree(root: string, spec: TreeSpec): string {
  for (const [name, value] of Object.entries(spec)) {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof value === 'string' || Buffer.isBuffer(value)) writeFileSync(path, value);
    else if ('link' in value) symlinkSync(value.link, path);
    else if ('dir' in value) mkdirSync(path, { recursive: true });
    else writeFileSync(path, value.content, { mode: value.mode });
  }
  return root;
}

/** A tree as `listContext` sees it (no ignore files), each file with its content's sha256. */
export async function describeTree(root: string): Promise<string[]> {
  const entries = await listContext(root, { ignoreFiles: false });
  return entries.map((entry) => {
    const content =
      entry.type === 'file'
        ? createHash('sha256')
            .update(readFileSync(join(root, entry.path)))
            .digest('hex')
        : (entry.target ?? '');
    return `${entry.type} ${entry.mode.toString(8)} ${entry.path} ${content}`;
  });
}
