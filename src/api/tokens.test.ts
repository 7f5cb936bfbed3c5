import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { adminTokenPath, ensureAdminToken } from './admin-token.js';
import { tempStore } from './testing/index.js';
import { roleAllows, TokenStore } from './tokens.js';

let env: ReturnType<typeof tempStore>;
let tokens: TokenStore;

beforeEach(() => {
  env = tempStore();
  tokens = new TokenStore(env.store);
});
afterEach(() => env.dispose());

describe('TokenStore', () => {
  it('creates drv_ tokens of 32 random bytes and verifies them', async () => {
    const { token, info } = await tokens.create('deployer', 'ci', 'alice');
    expect(token).toMatch(/^drv_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ role: 'deployer', name: 'ci', createdBy: 'alice' });
    expect(await tokens.verify(token)).toEqual(info);
    expect(await tokens.verify(`${token}x`)).toBeUndefined();
    expect(await tokens.verify(token.slice(4))).toBeUndefined();
    expect(await tokens.verify('')).toBeUndefined();
  });

  it('stores only a sha256 of the secret', async () => {
    const { token, info } = await tokens.create('viewer', 'dash', 'alice');
    const stored = await env.store.get(`/auth/tokens/${info.id}`);
    expect(stored?.value).not.toContain(token.slice(4));
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(token).digest('hex');
    expect(JSON.parse(stored?.value ?? '{}')).toMatchObject({ id: info.id, sha256: hash });
  });

  it('lists without hashes and revokes', async () => {
    const a = await tokens.create('viewer', 'a', 'x');
    const b = await tokens.create('admin', 'b', 'x');
    const listed = await tokens.list();
    expect(listed.map((t) => t.name).sort()).toEqual(['a', 'b']);
    expect(JSON.stringify(listed)).not.toContain('sha256');
    expect(await tokens.revoke(a.info.id)).toBe(true);
    expect(await tokens.revoke(a.info.id)).toBe(false);
    expect(await tokens.verify(a.token)).toBeUndefined();
    expect(await tokens.verify(b.token)).toEqual(b.info);
  });

  it('ignores records that do not parse', async () => {
    await env.store.put('/auth/tokens/junk', '{"role":"admin"');
    const { token, info } = await tokens.create('viewer', 'a', 'x');
    expect(await tokens.verify(token)).toEqual(info);
    expect(await tokens.list()).toEqual([info]);
  });

  it('orders roles viewer < deployer < admin', () => {
    expect(roleAllows('viewer', 'viewer')).toBe(true);
    expect(roleAllows('viewer', 'deployer')).toBe(false);
    expect(roleAllows('deployer', 'deployer')).toBe(true);
    expect(roleAllows('deployer', 'admin')).toBe(false);
    expect(roleAllows('admin', 'viewer')).toBe(true);
  });
});

describe('ensureAdminToken', () => {
  it('writes a new admin token 0600 in a 0700 home on first start, then reuses it', async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'drover-admin-')), 'home');
    try {
      const first = await ensureAdminToken(home, tokens);
      expect(statSync(home).mode & 0o777).toBe(0o700);
      expect(statSync(adminTokenPath(home)).mode & 0o777).toBe(0o600);
      expect(readFileSync(adminTokenPath(home), 'utf8')).toBe(`${first}\n`);
      expect((await tokens.verify(first))?.role).toBe('admin');

      expect(await ensureAdminToken(home, tokens)).toBe(first);
      expect(await tokens.list()).toHaveLength(1);
    } finally {
      rmSync(join(home, '..'), { recursive: true, force: true });
    }
  });

  it('replaces a token that no longer verifies, or is not an admin token', async () => {
    const home = mkdtempSync(join(tmpdir(), 'drover-admin-'));
    try {
      writeFileSync(adminTokenPath(home), 'drv_revoked\n', { mode: 0o644 });
      const fresh = await ensureAdminToken(home, tokens);
      expect(fresh).not.toBe('drv_revoked');
      expect(statSync(adminTokenPath(home)).mode & 0o777).toBe(0o600);
      expect((await tokens.verify(fresh))?.role).toBe('admin');

      const viewer = await tokens.create('viewer', 'v', 'x');
      writeFileSync(adminTokenPath(home), viewer.token);
      const again = await ensureAdminToken(home, tokens);
      expect((await tokens.verify(again))?.role).toBe('admin');
      expect(readFileSync(adminTokenPath(home), 'utf8').trim()).toBe(again);
      expect(readdirSync(home)).toEqual(['admin.token']);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('TokenStore names and lookups', () => {
  it('names a token after its role and id when not told, lists oldest first, finds by id', async () => {
    const first = await tokens.create('deployer', undefined, 'alice');
    expect(first.info.name).toBe(`deployer-${first.info.id.slice(0, 6)}`);
    const second = await tokens.create('viewer', 'dash', 'alice');
    expect((await tokens.list()).map((t) => t.id)).toEqual([first.info.id, second.info.id]);
    expect(await tokens.get(second.info.id)).toEqual(second.info);
    expect(await tokens.get('nope')).toBeUndefined();
  });
});
