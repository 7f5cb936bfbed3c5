import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApi } from './app.js';
import type { OpenApiDocument } from './openapi.js';
import { routes } from './routes.js';
import { FakeEngine, tempStore } from './testing/index.js';
import { TokenStore } from './tokens.js';

let env: ReturnType<typeof tempStore>;
let doc: OpenApiDocument;
let text: string;

beforeAll(async () => {
  env = tempStore();
  const tokens = new TokenStore(env.store);
  const { token } = await tokens.create('viewer', 'docs', 'test');
  const app = createApi({ engine: new FakeEngine(), auth: tokens });
  const response = await app.request('/openapi.json', {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  text = await response.text();
  doc = JSON.parse(text) as OpenApiDocument;
});
afterAll(() => env.dispose());

const openApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

type Operation = {
  operationId: string;
  summary: string;
  'x-drover-role': string;
  parameters?: { name: string; in: string; required: boolean; schema: object }[];
  requestBody?: { content: { 'application/json': { schema: { $ref: string } } } };
  responses: Record<string, { description?: string; $ref?: string }>;
  security?: unknown[];
};

const operationOf = (method: string, path: string): Operation | undefined =>
  doc.paths[openApiPath(path)]?.[method.toLowerCase()] as Operation | undefined;

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document with bearer security', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Drover API');
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.components.securitySchemes['bearer']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(operationOf('GET', '/healthz')?.security).toEqual([]);
  });

  it.each(routes.map((route) => ({ route, name: `${route.method} ${route.path}` })))(
    'describes $name: its role, path parameters, a summary and its success answer',
    ({ route }) => {
      const op = operationOf(route.method, route.path);
      expect(op).toBeDefined();
      expect(op?.['x-drover-role']).toBe(route.role);
      expect(route.summary, 'every route in the table has a summary').toBeDefined();
      expect(route.output, 'every route in the table says what it answers').toBeDefined();
      const names = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
      const inPath = (op?.parameters ?? []).filter((p) => p.in === 'path');
      expect(inPath.map((p) => p.name).sort()).toEqual(names.sort());
      expect(inPath.every((p) => p.required)).toBe(true);
      expect(op?.responses[String(route.output?.status ?? 200)]?.description).toBe(
        route.output?.description,
      );
      expect(op?.responses['401']).toEqual({ $ref: '#/components/responses/Error401' });
    },
  );

  it('has one operation per route and unique operation ids', () => {
    const operations = Object.values(doc.paths).flatMap((p) => Object.values(p)) as Operation[];
    expect(operations).toHaveLength(routes.length + 1);
    const ids = operations.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lists query parameters from the schemas the handlers parse with', () => {
    const logs = operationOf('GET', '/api/stacks/:stack/services/:service/logs');
    expect(logs?.parameters).toContainEqual(
      expect.objectContaining({ name: 'tail', in: 'query', required: false }),
    );
    const events = operationOf('GET', '/api/events');
    expect(events?.parameters?.map((p) => p.name).sort()).toEqual(['since', 'stack']);
  });

  it('has request bodies whose schemas check what the API checks, $refs resolved', () => {
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ $id: 'doc', components: doc.components });
    const validator = (method: string, path: string) => {
      const ref = operationOf(method, path)?.requestBody?.content['application/json'].schema.$ref;
      expect(ref).toMatch(/^#\/components\/schemas\//);
      return ajv.compile({ $ref: `doc${ref ?? ''}` });
    };
    const apply = validator('POST', '/api/stacks/apply');
    expect(apply({ file: '/srv/a.yaml', parameters: [{ name: 'x', value: { deep: [1] } }] })).toBe(
      true,
    );
    expect(apply({ file: '/srv/a.yaml', extra: 1 })).toBe(false);
    expect(apply({ parameters: [] })).toBe(false);
    const token = validator('POST', '/api/tokens');
    expect(token({ role: 'deployer', name: 'ci' })).toBe(true);
    expect(token({ role: 'root' })).toBe(false);
  });

  it('holds no secret and no example token', () => {
    expect(text).not.toMatch(/drv_[A-Za-z0-9_-]{10,}/);
  });
});
