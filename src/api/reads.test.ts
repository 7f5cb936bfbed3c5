import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createApi } from './app.js';
import {
  FakeEngine,
  sampleEndpoints,
  sampleRevisions,
  sampleRoutes,
  tempStore,
} from './testing/index.js';
import { TokenStore } from './tokens.js';

let env: ReturnType<typeof tempStore>;
let token: string;
let engine: FakeEngine;
let app: ReturnType<typeof createApi>;

beforeAll(async () => {
  env = tempStore();
  const tokens = new TokenStore(env.store);
  token = (await tokens.create('viewer', 'dash', 'test')).token;
  app = createApi({ engine: (engine = new FakeEngine()), auth: tokens });
});
afterAll(() => env.dispose());
beforeEach(() => {
  engine.calls.length = 0;
});

async function get(path: string): Promise<{ status: number; json: unknown }> {
  const response = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, json: await response.json() };
}

describe('GET /api/routes and /api/endpoints', () => {
  it("answer the registry's routes and endpoints, of one stack or service with the query", async () => {
    expect(await get('/api/routes')).toEqual({ status: 200, json: sampleRoutes });
    expect(await get('/api/routes?stack=hello')).toEqual({ status: 200, json: sampleRoutes });
    expect(await get('/api/endpoints?stack=hello&service=web')).toEqual({
      status: 200,
      json: sampleEndpoints,
    });
    expect(await get('/api/endpoints?service=nope')).toEqual({ status: 200, json: [] });
    expect(engine.calls.filter((c) => c.method !== 'stacks')).toEqual([
      { method: 'routes', args: [{}] },
      { method: 'routes', args: [{ stack: 'hello' }] },
      { method: 'endpoints', args: [{ stack: 'hello', service: 'web' }] },
      { method: 'endpoints', args: [{ service: 'nope' }] },
    ]);
  });

  it('say 404 for a stack that does not exist, 400 for a name that cannot be one', async () => {
    expect(await get('/api/routes?stack=nope')).toMatchObject({
      status: 404,
      json: { error: { code: 'NOT_FOUND', message: "no stack 'nope'" } },
    });
    expect((await get('/api/endpoints?stack=nope')).status).toBe(404);
    expect((await get('/api/endpoints?stack=a%20b')).status).toBe(400);
  });
});

describe('GET /api/stacks/:stack/resources/:resource/revisions/:revision', () => {
  const [current, earlier] = sampleRevisions;

  it('answers one revision by its id or a prefix of it', async () => {
    const base = '/api/stacks/hello/resources/web/revisions';
    expect(await get(`${base}/${current?.id}`)).toEqual({ status: 200, json: current });
    expect(await get(`${base}/bbbb`)).toEqual({ status: 200, json: earlier });
  });

  it('says 404 when none matches, 400 for what is not a revision id', async () => {
    const base = '/api/stacks/hello/resources/web/revisions';
    expect(await get(`${base}/cccc`)).toMatchObject({
      status: 404,
      json: { error: { code: 'NOT_FOUND', message: 'hello/web has no revision cccc' } },
    });
    expect((await get(`${base}/xyz`)).status).toBe(400);
    expect((await get(`${base}/abc`)).status).toBe(400);
    expect((await get('/api/stacks/other/resources/web/revisions/aaaa')).status).toBe(404);
  });
});
