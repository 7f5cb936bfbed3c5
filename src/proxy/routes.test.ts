import { describe, expect, it } from 'vitest';

import type { ProxyRoute } from './routes.js';
import { RouteTable } from './routes.js';

const r = (id: string, path: string, host?: string): ProxyRoute => ({
  id,
  pool: id,
  path,
  ...(host ? { host } : {}),
});

describe('the route table', () => {
  const table = new RouteTable([
    r('any-root', '/'),
    r('any-api', '/api'),
    r('app-root', '/', 'app.localhost'),
    r('app-admin', '/admin/', 'app.localhost'),
    r('wild', '/', '*.apps.localhost'),
    r('wild-v2', '/v2', '*.apps.localhost'),
  ]);

  it.each([
    ['app.localhost', '/', 'app-root'],
    ['app.localhost', '/admin/users', 'app-admin'],
    ['app.localhost', '/admin', 'app-root'],
    ['a.apps.localhost', '/x', 'wild'],
    ['a.apps.localhost', '/v2/x', 'wild-v2'],
    ['a.apps.localhost', '/v22', 'wild'],
    ['b.a.apps.localhost', '/x', 'any-root'],
    ['apps.localhost', '/x', 'any-root'],
    ['other.localhost', '/api', 'any-api'],
    ['other.localhost', '/api/x', 'any-api'],
    ['other.localhost', '/apix', 'any-root'],
  ])('%s%s → %s', (host, path, id) => {
    expect(table.match(host, path)?.id).toBe(id);
  });

  it('matches nothing without a fitting route', () => {
    expect(
      new RouteTable([r('only', '/api', 'a.localhost')]).match('a.localhost', '/web'),
    ).toBeUndefined();
  });
});
