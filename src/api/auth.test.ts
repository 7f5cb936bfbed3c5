import { createHash } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { AuditEntry } from './auth.js';
import { auditEvent } from './auth.js';
import { createApi } from './index.js';
import type { Route } from './routes.js';
import { routes } from './routes.js';
import { FakeEngine, sampleDrift, tempStore } from './testing/index.js';
import type { Role } from './tokens.js';
import { roleAllows, roles, TokenStore } from './tokens.js';

let env: ReturnType<typeof tempStore>;
let tokens: TokenStore;
let app: ReturnType<typeof createApi>;
const audit: AuditEntry[] = [];
const secrets = new Map<Role, string>();
let revoked: string;

beforeAll(async () => {
  env = tempStore();
  tokens = new TokenStore(env.store);
  for (const role of roles)
    secrets.set(role, (await tokens.create(role, `${role}-1`, 'test')).token);
  const gone = await tokens.create('admin', 'gone', 'test');
  await tokens.revoke(gone.info.id);
  revoked = gone.token;
  app = createApi({ engine: new FakeEngine(), auth: tokens, audit: (e) => audit.push(e) });
});
afterAll(() => env.dispose());

const bearer = (role: Role): string => `Bearer ${secrets.get(role)}`;

/** The least role each route should need: reads are a viewer's, token management an admin's. */
function expectedRole(route: Route): Role {
  if (route.path.startsWith('/api/tokens')) return 'admin';
  return route.method === 'GET' ? 'viewer' : 'deployer';
}

/**
 * A well-formed call of the route with the FakeEngine's names (stack `hello`,
 * service and resource `web`), so that only auth decides the outcome and an
 * allowed call succeeds. A token to revoke is made for each call that needs one.
 */
async function call(
  route: Route,
  authorization?: string,
  values: Record<string, string> = {},
): Promise<Response> {
  const params: Record<string, string> = {
    stack: 'hello',
    service: 'web',
    resource: 'web',
    revision: 'a'.repeat(12),
    ...values,
  };
  if (route.path.includes(':id') && params['id'] === undefined) {
    params['id'] = (await tokens.create('viewer', undefined, 'test')).info.id;
  }
  const path = route.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no sample value for :${name} in ${route.path}`);
    return value;
  });
  const bodies: Record<string, unknown> = {
    'POST /api/stacks/plan': { file: '/srv/hello/stack.yaml' },
    'POST /api/stacks/apply': { file: '/srv/hello/stack.yaml' },
    'POST /api/stacks/:stack/rollback': { to: 1 },
    'POST /api/tokens': { role: 'viewer' },
  };
  const body =
    route.method === 'POST'
      ? JSON.stringify(bodies[`${route.method} ${route.path}`] ?? {})
      : undefined;
  const headers: Record<string, string> = authorization ? { authorization } : {};
  return app.request(path, { method: route.method, headers, body });
}

const callers: { who: string; header: () => string | undefined; role?: Role }[] = [
  { who: 'no token', header: () => undefined },
  { who: 'a wrong token', header: () => 'Bearer drv_not-a-token' },
  { who: 'a malformed header', header: () => 'Basic dXNlcjpwYXNz' },
  { who: 'a revoked token', header: () => `Bearer ${revoked}` },
  ...roles.map((role) => ({ who: `a ${role}`, header: () => bearer(role), role })),
];

describe('the authorization matrix: every route in the table × every kind of caller', () => {
  const cases = routes.flatMap((route) =>
    callers.map((caller) => ({
      route,
      caller,
      name: `${route.method} ${route.path} by ${caller.who}`,
    })),
  );

  it.each(cases)('$name', async ({ route, caller }) => {
    const response = await call(route, caller.header());
    await response.body?.cancel();
    if (caller.role === undefined) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    } else if (!roleAllows(caller.role, route.role)) {
      expect(response.status).toBe(403);
    } else {
      // Allowed: the sample inputs are valid, so the call succeeds.
      expect([200, 201]).toContain(response.status);
    }
  });

  it.each(routes.map((route) => ({ route, name: `${route.method} ${route.path}` })))(
    '$name needs the role its kind of call should',
    ({ route }) => {
      expect(route.role).toBe(expectedRole(route));
    },
  );

  it('needs no token for /healthz, and only there', async () => {
    const response = await app.request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect((await app.request('/openapi.json')).status).toBe(401);
  });

  it('lets a viewer read the drift report, and nobody without a token', async () => {
    const viewer = await app.request('/api/drift', {
      headers: { authorization: bearer('viewer') },
    });
    expect(viewer.status).toBe(200);
    expect(await viewer.json()).toEqual(sampleDrift());
    const anonymous = await app.request('/api/drift');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });
});

describe('object-level checks', () => {
  const stackRoutes = routes.filter((r) => r.path.includes(':stack'));

  it.each(stackRoutes.map((route) => ({ route, name: `${route.method} ${route.path}` })))(
    "$name answers 404 for another stack's name, never another stack's data",
    async ({ route }) => {
      const response = await call(route, bearer('admin'), { stack: 'other' });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    },
  );

  it('shows a new token once: never in lists, never as its hash', async () => {
    const created = await app.request('/api/tokens', {
      method: 'POST',
      headers: { authorization: bearer('admin') },
      body: JSON.stringify({ role: 'deployer', name: 'ci' }),
    });
    expect(created.status).toBe(201);
    const { token, ...info } = (await created.json()) as { token: string; id: string };
    expect(token).toMatch(/^drv_/);
    expect(info).toMatchObject({ role: 'deployer', name: 'ci', createdBy: 'admin-1' });
    const hash = createHash('sha256').update(token).digest('hex');
    const list = await app.request('/api/tokens', { headers: { authorization: bearer('admin') } });
    const text = await list.text();
    expect(JSON.parse(text)).toContainEqual(info);
    for (const leak of [token, token.slice(4), hash, 'sha256']) expect(text).not.toContain(leak);
    // The new token works at once, with its role.
    const asCi = { authorization: `Bearer ${token}` };
    expect((await app.request('/api/stacks', { headers: asCi })).status).toBe(200);
    expect((await app.request('/api/tokens', { headers: asCi })).status).toBe(403);
  });

  it('answers 401 to a revoked token at once', async () => {
    const { token, info } = await tokens.create('deployer', 'soon-gone', 'test');
    const headers = { authorization: `Bearer ${token}` };
    expect((await app.request('/api/stacks', { headers })).status).toBe(200);
    const revoke = await app.request(`/api/tokens/${info.id}`, {
      method: 'DELETE',
      headers: { authorization: bearer('admin') },
    });
    expect(revoke.status).toBe(200);
    expect(await revoke.json()).toEqual({ revoked: info });
    const after = await app.request('/api/stacks', { headers });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    const again = await app.request(`/api/tokens/${info.id}`, {
      method: 'DELETE',
      headers: { authorization: bearer('admin') },
    });
    expect(again.status).toBe(404);
  });

  it('refuses a token revoking itself (409), which keeps working', async () => {
    const { token, info } = await tokens.create('admin', 'self', 'test');
    const headers = { authorization: `Bearer ${token}` };
    const response = await app.request(`/api/tokens/${info.id}`, { method: 'DELETE', headers });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ error: { code: 'CONFLICT' } });
    expect((await app.request('/api/tokens', { headers })).status).toBe(200);
  });

  it('refuses roles that do not exist and names that are not labels', async () => {
    const post = (body: unknown): Promise<Response> =>
      Promise.resolve(
        app.request('/api/tokens', {
          method: 'POST',
          headers: { authorization: bearer('admin') },
          body: JSON.stringify(body),
        }),
      );
    expect((await post({ role: 'root' })).status).toBe(400);
    expect((await post({ role: 'viewer', name: 'two words' })).status).toBe(400);
    expect((await post({ role: 'viewer', token: 'drv_mine' })).status).toBe(400);
  });
});

describe('audit', () => {
  beforeEach(() => {
    audit.length = 0;
  });

  it('records every mutating call with a valid token, refused ones included, and no reads', async () => {
    const apply = routes.find((r) => r.path === '/api/stacks/apply') as Route;
    const stacks = routes.find((r) => r.path === '/api/stacks') as Route;
    await (await call(apply, bearer('deployer'))).text();
    await (await call(apply, bearer('viewer'))).text();
    await (await call(apply)).text();
    await (await call(stacks, bearer('admin'))).text();
    expect(audit).toEqual([
      {
        who: 'deployer-1',
        method: 'POST',
        path: '/api/stacks/apply',
        status: 200,
        stack: 'hello',
      },
      { who: 'viewer-1', method: 'POST', path: '/api/stacks/apply', status: 403 },
    ]);
  });

  it('names the stack of path routes, and what token management did (never a secret)', async () => {
    const rollback = routes.find((r) => r.path === '/api/stacks/:stack/rollback') as Route;
    await (await call(rollback, bearer('deployer'))).text();
    const created = await app.request('/api/tokens', {
      method: 'POST',
      headers: { authorization: bearer('admin') },
      body: JSON.stringify({ role: 'viewer', name: 'dash' }),
    });
    const { token, id } = (await created.json()) as { token: string; id: string };
    expect(audit).toEqual([
      expect.objectContaining({ path: '/api/stacks/hello/rollback', stack: 'hello' }),
      {
        who: 'admin-1',
        method: 'POST',
        path: '/api/tokens',
        status: 201,
        detail: `created viewer token ${id} (dash)`,
      },
    ]);
    expect(JSON.stringify(audit)).not.toContain(token.slice(4));
  });

  it('becomes an audit event: who, what, and the stack', () => {
    expect(
      auditEvent({
        who: 'ci',
        method: 'POST',
        path: '/api/stacks/apply',
        status: 200,
        stack: 'hello',
      }),
    ).toEqual({
      type: 'audit',
      who: 'ci',
      stack: 'hello',
      message: 'POST /api/stacks/apply → 200',
      data: { method: 'POST', path: '/api/stacks/apply', status: 200 },
    });
  });
});
