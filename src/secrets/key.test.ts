import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { SecretError } from './errors.js';
import { keyPath, loadKeyFile } from './key.js';

const homes: string[] = [];

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'drover-keys-'));
  homes.push(home);
  return home;
}

afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof SecretError) return error.code;
    throw error;
  }
  return undefined;
}

describe('loadKeyFile', () => {
  it('makes a key once and leaves no temporary file behind', () => {
    const home = newHome();
    const first = loadKeyFile(home, 'secrets', true);
    const again = loadKeyFile(home, 'secrets', true);
    expect(first?.length).toBe(32);
    expect(again).toEqual(first);
    expect(readdirSync(join(home, 'keys'))).toEqual(['secrets.key']);
  });

  it('makes its home when missing', () => {
    const home = join(newHome(), 'not', 'yet');
    expect(loadKeyFile(home, 'secrets', true)?.length).toBe(32);
  });

  it('refuses a key file others can read', () => {
    const home = newHome();
    loadKeyFile(home, 'secrets', true);
    chmodSync(keyPath(home, 'secrets'), 0o644);
    expect(codeOf(() => loadKeyFile(home, 'secrets', true))).toBe('SECRET_KEY_MODE');
  });

  it('refuses a key of the wrong size rather than replacing it', () => {
    const home = newHome();
    mkdirSync(join(home, 'keys'), { mode: 0o700 });
    writeFileSync(keyPath(home, 'secrets'), 'short', { mode: 0o600 });
    expect(codeOf(() => loadKeyFile(home, 'secrets', true))).toBe('SECRET_KEY_INVALID');
  });

  it('says why it cannot read, rather than making another key', () => {
    // A file where the keys directory should be.
    const home = newHome();
    writeFileSync(join(home, 'keys'), '');
    expect(codeOf(() => loadKeyFile(home, 'secrets', true))).toBe('SECRET_KEY_INVALID');
  });
});
