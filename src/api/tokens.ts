import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import { z } from 'zod';

import type { Store } from '../store/index.js';

/** What a token may do; each role includes the ones before it. */
export const roles = ['viewer', 'deployer', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Whether a token of role `has` may call a route that needs `needs`. */
export function roleAllows(has: Role, needs: Role): boolean {
  return roles.indexOf(has) >= roles.indexOf(needs);
}

/** A token as the daemon keeps it; the secret itself is never stored. */
export interface TokenInfo {
  readonly id: string;
  readonly role: Role;
  /** For people and for history: the actor of what the token does. */
  readonly name: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

const PREFIX = '/auth/tokens/';
/** Marks a Drover token in logs and secret scanners. */
const SECRET_PREFIX = 'drv_';

const record = z.object({
  id: z.string(),
  role: z.enum(roles),
  name: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
type TokenRecord = z.infer<typeof record>;

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/**
 * API tokens on the store, under `/auth/tokens/<id>`, as sha256 hashes: a copy
 * of the store gives nobody a usable token. Secrets are 32 random bytes, so a
 * plain hash is enough (no password stretching needed).
 */
export class TokenStore {
  constructor(private readonly store: Store) {}

  /**
   * A new token; its secret is returned here and never again. Without a
   * name it is called after its role and id (`deployer-1a2b3c`).
   */
  async create(
    role: Role,
    name: string | undefined,
    by: string,
  ): Promise<{ token: string; info: TokenInfo }> {
    const token = `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
    for (;;) {
      const id = randomBytes(8).toString('hex');
      const info: TokenInfo = {
        id,
        role,
        name: name ?? `${role}-${id.slice(0, 6)}`,
        createdAt: new Date().toISOString(),
        createdBy: by,
      };
      const value: TokenRecord = { ...info, sha256: digest(token).toString('hex') };
      const key = PREFIX + info.id;
      // Create-only: an id collision must not replace another token.
      const { succeeded } = await this.store.txn({
        compare: [{ key, target: 'version', op: '=', value: 0 }],
        success: [{ type: 'put', key, value: JSON.stringify(value) }],
      });
      if (succeeded) return { token, info };
    }
  }

  /** The token's info when the secret belongs to a live token. */
  async verify(secret: string): Promise<TokenInfo | undefined> {
    if (!secret.startsWith(SECRET_PREFIX)) return undefined;
    const hash = digest(secret);
    let found: TokenInfo | undefined;
    // Compare with every token, in constant time each, so timing tells nothing about the hashes.
    for (const r of await this.records()) {
      if (timingSafeEqual(hash, Buffer.from(r.sha256, 'hex'))) found ??= info(r);
    }
    return found;
  }

  /** Oldest first. */
  async list(): Promise<TokenInfo[]> {
    return (await this.records()).map(info);
  }

  async get(id: string): Promise<TokenInfo | undefined> {
    const kv = await this.store.get(PREFIX + id);
    const parsed = kv === undefined ? undefined : record.safeParse(safeJson(kv.value));
    return parsed?.success ? info(parsed.data) : undefined;
  }

  /** True when a token was removed. */
  async revoke(id: string): Promise<boolean> {
    return (await this.store.delete(PREFIX + id)).deleted > 0;
  }

  private async records(): Promise<TokenRecord[]> {
    const { kvs } = await this.store.range(PREFIX);
    // Oldest first: the store revision of each token's creation orders them exactly.
    const created = [...kvs].sort((a, b) => a.createRevision - b.createRevision);
    // A record that does not parse is ignored: it cannot grant anything.
    return created.flatMap((kv) => {
      const parsed = record.safeParse(safeJson(kv.value));
      return parsed.success ? [parsed.data] : [];
    });
  }
}

function info(r: TokenRecord): TokenInfo {
  return {
    id: r.id,
    role: r.role,
    name: r.name,
    createdAt: r.createdAt,
    createdBy: r.createdBy,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
