import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AuditEntry } from './auth.js';
import { createApi } from './index.js';
import type { Route } from './routes.js';
import { routes } from './routes.js';
import { FakeEngine, sampleDrift, tempStore } from './testing/index.js';
import type { Role } from './tokens.js';
import { roleAllows, roles, TokenStore } from './tokens.js';

let env: ReturnType<typeof tempStore>;
let app: ReturnType<typeof createApi>;
const audit: AuditEntry[] = [];
const secrets = new Map<Role, string>();

beforeAll(async () => {
  env = tempStore();
  const tokens = new TokenStore(env.store);
  for (const role of roles)
    secrets.set(role, (await tokens.create(role, `${role}-1`, 'test')).token);
  app = createApi({ engine: new FakeEngine(), auth: tokens, audit: (e) => audit.push(e) });
});
afterAll(() => env.dispose());

/** A well-formed call of the route, so only auth decides the outcome. */
function call(route: Route, authorization?: string): Promise<Response> {
  const path = route.path
    .replace(':stack', 'hello')
    .replace(':service', 'web')
    .replace(':resource', 'web');
  const bodies: Record<string, unknown> = {
    '/api/stacks/plan': { file: '/srv/hello/stack.yaml' },
    '/api/stacks/apply': { file: '/srv/hello/stack.yaml' },
    '/api/stacks/:stack/rollback': { to: 1 },
  };
  const body = route.method === 'POST' ? JSON.stringify(bodies[route.path] ?? {}) : undefined;
  const headers: Record<string, string> = authorization ? { authorization } : {};
  return Promise.resolve(app.request(path, { method: route.method, headers, body }));
}

const callers: { who: string; header?: (role: Role) => string | undefined; role?: Role }[] = [
  { who: 'no token' },
  { who: 'a wrong token', header: () => 'Bearer drv_not-a-token' },
  { who: 'a malformed header', header: () => 'Basic dXNlcjpwYXNz' },
  ...roles.map((role) => ({ who: `a ${role}`, header: () => `Bearer ${secrets.get(role)}`, role })),
];

describe('auth, for every route in the table', () => {
  const cases = routes.flatMap((route) =>
    callers.map((caller) => ({
      route,
      caller,
      name: `${route.method} ${route.path} by ${caller.who}`,
    })),
  );

  it.each(cases)('$name', async ({ route, caller }) => {
    const response = await call(route, caller.header?.(caller.role ?? 'viewer'));
    await response.body?.cancel();
    if (caller.role === undefined) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    } else if (!roleAllows(caller.role, route.role)) {
      expect(response.status).toBe(403);
    } else {
      expect(response.status).toBe(200);
    }
  });

  it('lets viewers only read, deployers change stacks, admins anything', () => {
    for (const route of routes) {
      expect(route.role).toBe(route.method === 'GET' ? 'viewer' : 'deployer');
    }
  });

  it('lets a viewer read the drift report, and nobody without a token', async () => {
    const viewer = await app.request('/api/drift', {
      headers: { authorization: `Bearer ${secrets.get('viewer')}` },
    });
    expect(viewer.status).toBe(200);
    expect(await viewer.json()).toEqual(sampleDrift());
    const anonymous = await app.request('/api/drift');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('needs no token for /healthz', async () => {
    const response = await app.request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });
});

describe('audit', () => {
  it('records every mutating call with a valid token, refused ones included, and no reads', async () => {
    audit.length = 0;
    const apply = routes.find((r) => r.path === '/api/stacks/apply') as Route;
    const stacks = routes.find((r) => r.path === '/api/stacks') as Route;
    await (await call(apply, `Bearer ${secrets.get('deployer')}`)).text();
    await (await call(apply, `Bearer ${secrets.get('viewer')}`)).text();
    await (await call(apply)).text();
    await (await call(stacks, `Bearer ${secrets.get('admin')}`)).text();
    expect(audit).toEqual([
      { who: 'deployer-1', method: 'POST', path: '/api/stacks/apply', status: 200 },
      { who: 'viewer-1', method: 'POST', path: '/api/stacks/apply', status: 403 },
    ]);
  });
});
