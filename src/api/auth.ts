import type { MiddlewareHandler } from 'hono';

import { ForbiddenError, UnauthenticatedError } from './errors.js';
import type { Role, TokenInfo, TokenStore } from './tokens.js';
import { roleAllows } from './tokens.js';

/** What handlers find on the request context. */
export interface ApiEnv {
  Variables: { token: TokenInfo };
}

/** One mutating call, for the audit trail (the engine records it as an event). */
export interface AuditEntry {
  readonly who: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
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
      throw new ForbiddenError(
        `this needs a ${needs} token; '${token.name}' is a ${token.role} token`,
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
    audit({ who: token.name, method: c.req.method, path: c.req.path, status: c.res.status });
  };
}
