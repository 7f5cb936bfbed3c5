import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { TokenStore } from './tokens.js';

/** Where the daemon leaves its admin token for the local CLI. */
export function adminTokenPath(home: string): string {
  return join(home, 'admin.token');
}

/**
 * The admin token of this home: the one in `$DROVER_HOME/admin.token` when it
 * still verifies as an admin token, else a new one written there (0600, in a
 * 0700 home). Like a Docker socket, whoever can read that file is an admin.
 */
export async function ensureAdminToken(home: string, tokens: TokenStore): Promise<string> {
  const file = adminTokenPath(home);
  const existing = readIfPresent(file);
  if (existing !== undefined) {
    const info = await tokens.verify(existing);
    if (info?.role === 'admin') return existing;
  }
  const { token } = await tokens.create('admin', 'admin', 'drover');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writePrivate(file, `${token}\n`);
  return token;
}

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Written beside and renamed over, so a reader never sees half a token or a wider mode. */
function writePrivate(file: string, text: string): void {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
    // A umask can only remove bits (even the owner's): set the mode exactly.
    chmodSync(temp, 0o600);
    renameSync(temp, file);
  } finally {
    rmSync(temp, { force: true });
  }
}
