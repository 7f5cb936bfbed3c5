import { ConflictError, NotFoundError } from './errors.js';
import { parse, tokenCreateBody, tokenPath } from './input.js';
import type { Route } from './route.js';
import { readBody, who } from './route.js';

/**
 * Token management, for admins. A token's secret is in the answer to its
 * creation and nowhere else: lists and revocations show only what
 * `TokenInfo` holds (never the secret, never its hash).
 */
export const tokenRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/api/tokens',
    role: 'admin',
    summary: 'create a token; its secret is in this answer and never again',
    input: { body: tokenCreateBody },
    output: {
      status: 201,
      type: 'json',
      description: '{ token, id, role, name, createdAt, createdBy }',
    },
    handle: async (c, deps) => {
      const { role, name } = await readBody(c, deps, tokenCreateBody);
      const { token, info } = await deps.tokens.create(role, name, who(c));
      c.set('audit', { detail: `created ${info.role} token ${info.id} (${info.name})` });
      return c.json({ token, ...info }, 201);
    },
  },
  {
    method: 'GET',
    path: '/api/tokens',
    role: 'admin',
    summary: 'every token, oldest first (never a secret or its hash)',
    output: { type: 'json', description: 'TokenInfo[]' },
    handle: async (c, { tokens }) => c.json(await tokens.list()),
  },
  {
    method: 'DELETE',
    path: '/api/tokens/:id',
    role: 'admin',
    summary: 'revoke a token: from now on it gets 401 (a token cannot revoke itself)',
    input: { path: tokenPath },
    output: { type: 'json', description: '{ revoked: TokenInfo }' },
    handle: async (c, { tokens }) => {
      const { id } = parse(tokenPath, c.req.param(), 'path');
      // Revoking the token in use would lock its holder out in the middle of what they do;
      // another admin token can revoke it (the daemon writes a new admin.token at its next start).
      if (id === c.get('token').id) {
        throw new ConflictError('a token cannot revoke itself: use another admin token');
      }
      const info = await tokens.get(id);
      if (info === undefined || !(await tokens.revoke(id))) {
        throw new NotFoundError(`no token ${id}`);
      }
      c.set('audit', { detail: `revoked ${info.role} token ${info.id} (${info.name})` });
      return c.json({ revoked: info });
    },
  },
];
