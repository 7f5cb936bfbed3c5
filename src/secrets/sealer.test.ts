import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { loadKey } from '../engine/index.js';

import { SecretError } from './errors.js';
import { keyPath } from './key.js';
import { createSealer, openSealer } from './sealer.js';

const homes: string[] = [];

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'drover-secrets-'));
  homes.push(home);
  return home;
}

afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

/** Runs `fn` and returns the SecretError's code, failing if it throws anything else or nothing. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretError);
    return (error as SecretError).code;
  }
  throw new Error('expected a SecretError');
}

/** The sealed value with one byte of its data part changed. */
function flipByte(sealed: string, part: 2 | 3, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part] ?? '', 'base64url');
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('Sealer', () => {
  it('opens what it sealed: text, bytes, empty, JSON', () => {
    const sealer = openSealer(newHome());
    expect(sealer.open(sealer.seal('hunter2')).toString('utf8')).toBe('hunter2');
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    expect(sealer.open(sealer.seal(bytes))).toEqual(bytes);
    expect(sealer.open(sealer.seal('')).length).toBe(0);
    expect(sealer.open(sealer.seal('ünïcødé ✓', 'k'), 'k').toString('utf8')).toBe('ünïcødé ✓');
    const value = { user: 'app', password: 's3cret', ports: [1, 2] };
    expect(sealer.openJson(sealer.sealJson(value, '/secrets/db'), '/secrets/db')).toEqual(value);
  });

  it('writes the versioned text format, with a fresh nonce every time', () => {
    const sealer = openSealer(newHome());
    const a = sealer.seal('same');
    const b = sealer.seal('same');
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a.split('.')[1]).toBe(sealer.keyId);
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('never shows the plaintext in the sealed value', () => {
    const sealer = openSealer(newHome());
    const plaintext = 'correct horse battery staple';
    const sealed = sealer.seal(plaintext);
    expect(sealed).not.toContain(plaintext);
    expect(sealed).not.toContain(Buffer.from(plaintext).toString('base64url'));
    expect(Buffer.from(sealed, 'utf8').includes(Buffer.from(plaintext))).toBe(false);
    for (const part of sealed.split('.').slice(1)) {
      expect(Buffer.from(part, 'base64url').includes(Buffer.from('horse'))).toBe(false);
    }
  });

  it('refuses a value changed anywhere: ciphertext, tag, nonce', () => {
    const sealer = openSealer(newHome());
    const sealed = sealer.seal('the plaintext', 'here');
    // The data part is ciphertext then the 16-byte tag.
    expect(codeOf(() => sealer.open(flipByte(sealed, 3, 0), 'here'))).toBe('SECRET_UNAUTHENTIC');
    expect(codeOf(() => sealer.open(flipByte(sealed, 3, -1), 'here'))).toBe('SECRET_UNAUTHENTIC');
    expect(codeOf(() => sealer.open(flipByte(sealed, 3, -16), 'here'))).toBe('SECRET_UNAUTHENTIC');
    expect(codeOf(() => sealer.open(flipByte(sealed, 2, 0), 'here'))).toBe('SECRET_UNAUTHENTIC');
    expect(codeOf(() => sealer.open(flipByte(sealed, 2, 11), 'here'))).toBe('SECRET_UNAUTHENTIC');
    // A shortened value: part of the tag gone.
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3] ?? '', 'base64url');
    parts[3] = body.subarray(0, body.length - 1).toString('base64url');
    expect(codeOf(() => sealer.open(parts.join('.'), 'here'))).toBe('SECRET_UNAUTHENTIC');
    // Unchanged, it still opens.
    expect(sealer.open(sealed, 'here').toString()).toBe('the plaintext');
  });

  it('binds a value to its place: another or a missing aad does not open it', () => {
    const sealer = openSealer(newHome());
    const sealed = sealer.seal('pw', '/stacks/a/secrets/db');
    expect(codeOf(() => sealer.open(sealed, '/stacks/b/secrets/db'))).toBe('SECRET_UNAUTHENTIC');
    expect(codeOf(() => sealer.open(sealed))).toBe('SECRET_UNAUTHENTIC');
    expect(codeOf(() => sealer.open(sealer.seal('pw'), 'somewhere'))).toBe('SECRET_UNAUTHENTIC');
    expect(sealer.open(sealed, '/stacks/a/secrets/db').toString()).toBe('pw');
  });

  it('tells a value sealed in another home (another key)', () => {
    const one = openSealer(newHome());
    const two = openSealer(newHome());
    expect(one.keyId).not.toBe(two.keyId);
    expect(codeOf(() => two.open(one.seal('x', 'k'), 'k'))).toBe('SECRET_WRONG_KEY');
    // Even with the key id rewritten to the other home's, it does not open.
    const forged = one.seal('x', 'k').replace(one.keyId, two.keyId);
    expect(codeOf(() => two.open(forged, 'k'))).toBe('SECRET_UNAUTHENTIC');
  });

  it('refuses unknown versions and malformed values', () => {
    const sealer = openSealer(newHome());
    const sealed = sealer.seal('x');
    expect(codeOf(() => sealer.open(sealed.replace(/^v1/, 'v2')))).toBe('SECRET_VERSION');
    expect(codeOf(() => sealer.open('v9.anything'))).toBe('SECRET_VERSION');
    for (const bad of [
      '',
      'plaintext',
      'v1',
      sealed.split('.').slice(0, 3).join('.'),
      `${sealed}.extra`,
      sealed.replace(/\.([^.]*)$/, '.$1!'),
      sealed.replace(/\.([^.]*)$/, '.'),
      sealed.replace(/^v1\.[^.]*/, 'v1.AAAA'),
    ]) {
      expect(
        codeOf(() => sealer.open(bad)),
        bad,
      ).toBe('SECRET_MALFORMED');
    }
  });

  it('reports JSON problems without quoting the secret', () => {
    const sealer = openSealer(newHome());
    const sealed = sealer.seal('not json: topsecretvalue');
    let message = '';
    try {
      sealer.openJson(sealed);
    } catch (error) {
      expect(error).toBeInstanceOf(SecretError);
      expect((error as SecretError).code).toBe('SECRET_NOT_JSON');
      expect((error as SecretError).cause).toBeUndefined();
      message = (error as Error).message;
    }
    expect(message).not.toContain('topsecretvalue');
    expect(codeOf(() => sealer.sealJson(undefined))).toBe('SECRET_NOT_JSON');
  });

  it('needs a 32-byte key', () => {
    expect(codeOf(() => createSealer(new Uint8Array(16)))).toBe('SECRET_KEY_INVALID');
    const key = new Uint8Array(32).fill(7);
    const sealer = createSealer(key);
    const sealed = sealer.seal('x');
    // The sealer keeps its own copy of the key.
    key.fill(0);
    expect(sealer.open(sealed).toString()).toBe('x');
  });
});

describe('openSealer and the key file', () => {
  it('makes the key on first use: directory 0700, file 0600, 32 bytes', () => {
    const home = newHome();
    openSealer(home);
    expect(statSync(join(home, 'keys')).mode & 0o777).toBe(0o700);
    const file = statSync(keyPath(home, 'secrets'));
    expect(file.mode & 0o777).toBe(0o600);
    expect(file.size).toBe(32);
  });

  it('finds the same key again, so values outlive the process', () => {
    const home = newHome();
    const sealed = openSealer(home).seal('kept', 'k');
    expect(openSealer(home).open(sealed, 'k').toString()).toBe('kept');
    expect(openSealer(home, { create: false }).open(sealed, 'k').toString()).toBe('kept');
  });

  it('shares the key file with the engine (loadKey)', () => {
    const home = newHome();
    const sealer = openSealer(home);
    const key = loadKey(home, 'secrets', false);
    expect(key).toBeDefined();
    expect(createSealer(key ?? new Uint8Array()).keyId).toBe(sealer.keyId);
  });

  it('does not make a key when told not to', () => {
    const home = newHome();
    expect(codeOf(() => openSealer(home, { create: false }))).toBe('SECRET_KEY_MISSING');
    expect(() => statSync(join(home, 'keys'))).toThrow();
  });
});
