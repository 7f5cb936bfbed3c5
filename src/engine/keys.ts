import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { EngineError } from './errors.js';

const KEY_BYTES = 32;

function keyPath(home: string, name: string): string {
  return join(home, 'keys', `${name}.key`);
}

/**
 * A secret key kept in $DROVER_HOME/keys (directory 0700, file 0600), made on
 * first use. `create: false` reads only, for commands that must not write.
 */
export function loadKey(home: string, name: string, create: boolean): Uint8Array | undefined {
  const path = keyPath(home, name);
  try {
    const key = readFileSync(path);
    if (key.length !== KEY_BYTES)
      throw new EngineError('KEY_INVALID', `${path} is not a ${KEY_BYTES}-byte key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!create) return undefined;
  mkdirSync(join(home, 'keys'), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  try {
    writeFileSync(path, key, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    // Another process made it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path);
    throw new EngineError('KEY_WRITE', `cannot write ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
