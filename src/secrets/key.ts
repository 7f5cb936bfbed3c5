import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

import { SecretError } from './errors.js';

export const KEY_BYTES = 32;

/** The file of a named key: $DROVER_HOME/keys/<name>.key. */
export function keyPath(home: string, name: string): string {
  return join(home, 'keys', `${name}.key`);
}

/**
 * A 32-byte key kept in $DROVER_HOME/keys (directory 0700, file 0600), made
 * on first use when `create` is true; `undefined` when it is missing and may
 * not be made (commands that must not write).
 *
 * The same files as the engine's `loadKey` (engine/keys.ts), so both see the
 * same key. It is a copy rather than an import because the engine imports
 * this layer, and layers depend one way. Unlike that one it refuses a key
 * that others can read (as ssh does), and creates the file atomically.
 */
export function loadKeyFile(home: string, name: string, create: boolean): Buffer | undefined {
  const path = keyPath(home, name);
  const existing = readKey(path);
  if (existing !== undefined || !create) return existing;

  const dir = join(home, 'keys');
  // Written in full under a temporary name, then linked into place: link()
  // fails if the name exists, so a concurrent first use never reads a half
  // written key, and the loser simply takes the winner's key.
  const tmp = join(dir, `.${name}.key.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // mkdir's mode is filtered by the umask: set it outright on what we made.
    if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dir, 0o700);
    writeNewFile(tmp, randomBytes(KEY_BYTES));
    try {
      linkSync(tmp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    syncDir(dir);
  } catch (error) {
    throw new SecretError('SECRET_KEY_WRITE', `cannot write ${path}: ${messageOf(error)}`, {
      cause: error,
    });
  } finally {
    rmSync(tmp, { force: true });
  }
  return readKey(path);
}

function readKey(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SecretError('SECRET_KEY_INVALID', `cannot read ${path}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  try {
    // The mode of the file we read, not of whatever is at the path a moment later.
    const mode = fstatSync(fd).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new SecretError(
        'SECRET_KEY_MODE',
        `${path} can be read by others (mode ${mode.toString(8).padStart(4, '0')}); make it 0600`,
      );
    }
    const key = readFileSync(fd);
    if (key.length !== KEY_BYTES) {
      throw new SecretError('SECRET_KEY_INVALID', `${path} is not a ${KEY_BYTES}-byte key`);
    }
    return key;
  } finally {
    closeSync(fd);
  }
}

function writeNewFile(path: string, content: Uint8Array): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, content);
    // A key lost in a crash would make every secret sealed with it unreadable.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a new directory entry durable. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
