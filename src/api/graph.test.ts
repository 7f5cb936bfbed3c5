import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApi } from './app.js';
import { FakeEngine, tempStore } from './testing/index.js';
import { TokenStore } from './tokens.js';

let env: ReturnType<typeof tempStore>;
let app: ReturnType<typeof createApi>;
let viewer: string;

beforeAll(async () => {
  env = tempStore();
  const tokens = new TokenStore(env.store);
  viewer = (await tokens.create('viewer', 'vera', 'test')).token;
  app = createApi({ engine: new FakeEngine(), auth: tokens });
});
afterAll(() => env.dispose());

const get = (path: string, token?: string): Promise<Response> =>
  Promise.resolve(
    app.request(path, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
  );

describe('GET /api/stacks/:stack/graph', () => {
  it("answers a viewer with the stack's graph and its services' health", async () => {
    const response = await get('/api/stacks/hello/graph', viewer);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      stack: 'hello',
      nodes: [
        { name: 'app', type: 'Drover::Artifact', depth: 0 },
        {
          name: 'web',
          type: 'Drover::Service',
          depth: 1,
          health: { state: 'unhealthy', desired: 2, running: 1, healthy: 1 },
        },
        { name: 'route', type: 'Drover::Route', depth: 2 },
      ],
      edges: [
        { from: 'app', to: 'web' },
        { from: 'web', to: 'route' },
      ],
    });
  });

  it('needs a token, and knows only existing stacks', async () => {
    expect((await get('/api/stacks/hello/graph')).status).toBe(401);
    const missing = await get('/api/stacks/nope/graph', viewer);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await get('/api/stacks/..%2Fx/graph', viewer)).status).toBe(400);
  });
});

describe('GET /api/whoami', () => {
  it("tells the token's name and role, never its secret", async () => {
    const response = await get('/api/whoami', viewer);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ name: 'vera', role: 'viewer' });
    expect(text).not.toContain(viewer);
    expect((await get('/api/whoami')).status).toBe(401);
  });
});

describe('the dashboard under /ui/', () => {
  it('serves its files without a token, with a strict content security policy', async () => {
    const page = await get('/ui/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="main.js"></script>');
    const script = await get('/ui/main.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get('/ui/app.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('sends /ui and / to /ui/', async () => {
    for (const path of ['/ui', '/']) {
      const response = await get(path);
      expect(response.status, path).toBeGreaterThanOrEqual(301);
      expect(response.headers.get('location'), path).toBe('/ui/');
    }
  });

  it('serves nothing outside its folder, nor files it does not know', async () => {
    for (const path of [
      '/ui/..%2Fserve.ts',
      '/ui/../package.json',
      '/ui/tsconfig.json',
      '/ui/x.js',
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
  });
});
