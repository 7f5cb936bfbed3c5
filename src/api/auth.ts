import type { MiddlewareHandler } from 'hono';

import type { EngineEvent } from '../engine/types.js';

import { ForbiddenError, UnauthenticatedError } from './errors.js';
import type { Role, TokenInfo, TokenStore } from './tokens.js';
import { roleAllows } from './tokens.js';

/** What a handler adds to its call's audit entry (what the path alone does not say). */
export interface AuditNote {
  readonly stack?: string;
  /** For people, e.g. "created deployer token 1a2b… (ci)"; never a secret. */
  readonly detail?: string;
}

/** What handlers find on the request context (`audit` only once a handler set it). */
export interface ApiEnv {
  Variables: { token: TokenInfo; audit: AuditNote };
}

/** One mutating call, for the audit trail (the engine records it as an event). */
export interface AuditEntry {
  readonly who: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The stack it concerns: from the path, or for an apply from its body. */
  readonly stack?: string;
  readonly detail?: string;
}

/**
 * The event an audit entry is recorded as: who (the token's name), what
 * (method, path, status, the stack, a detail), when (the event's `at`).
 */
export function auditEvent(entry: AuditEntry): Omit<EngineEvent, 'seq' | 'at'> {
  const what = `${entry.method} ${entry.path} → ${entry.status}`;
  return {
    type: 'audit',
    who: entry.who,
    ...(entry.stack === undefined ? {} : { stack: entry.stack }),
    message: entry.detail === undefined ? what : `${what}: ${entry.detail}`,
    data: {
      method: entry.method,
      path: entry.path,
      status: entry.status,
      ...(entry.detail === undefined ? {} : { detail: entry.detail }),
    },
  };
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Checks the bearer token and the route's role; puts the token on the context. */
export function authorize(tokens: TokenStore, needs: Role): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header === undefined) {
      throw new UnauthenticatedError('this needs a token: Authorization: Bearer <token>');
    }
    const secret = BEARER.exec(header)?.[1];
    const token = secret === undefined ? undefined : await tokens.verify(secret);
    if (token === undefined) {
      throw new UnauthenticatedError('the token is not valid (mistyped, or revoked)');
    }
    c.set('token', token);
    if (!roleAllows(token.role, needs)) {
      const a = (role: Role): string => (role === 'admin' ? 'an' : 'a');
      throw new ForbiddenError(
        `this needs ${a(needs)} ${needs} token; '${token.name}' is ${a(token.role)} ${token.role} token`,
      );
    }
    await next();
  };
}

/**
 * Records every mutating call made with a valid token, refused ones (403)
 * included, once its status is known. Calls without a valid token have no
 * actor to record; they are not audited, so anonymous traffic cannot flood
 * the event log. Put it before `authorize` so it sees the final status.
 */
export function audited(
  audit: ((entry: AuditEntry) => void) | undefined,
): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next();
    const token = c.get('token') as TokenInfo | undefined;
    if (audit === undefined || token === undefined || c.req.method === 'GET') return;
    const note = (c.get('audit') as AuditNote | undefined) ?? {};
    const stack = note.stack ?? c.req.param('stack');
    audit({
      who: token.name,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ...(stack === undefined ? {} : { stack }),
      ...(note.detail === undefined ? {} : { detail: note.detail }),
    });
  };
}
