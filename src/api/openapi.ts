import { readFileSync } from 'node:fs';

import { z } from 'zod';

import { jsonValue } from './input.js';
import type { Route, RouteOutput } from './route.js';

type JsonSchema = Record<string, unknown>;

/** The parts of an OpenAPI 3.1 document Drover writes. */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly security: readonly Record<string, readonly string[]>[];
  readonly paths: Record<string, Record<string, JsonSchema>>;
  readonly components: {
    readonly securitySchemes: Record<string, JsonSchema>;
    readonly schemas: Record<string, JsonSchema>;
    readonly responses: Record<string, JsonSchema>;
  };
}

const media: Record<RouteOutput['type'], string> = {
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  sse: 'text/event-stream',
  prometheus: 'text/plain; version=0.0.4',
};

const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'string' } },
      },
    },
  },
};

const errorResponses: Record<string, string> = {
  '400': 'the input does not fit (INVALID_REQUEST; `details` names each problem)',
  '401': 'no token, or one that does not verify (UNAUTHENTICATED)',
  '403': "the token's role is below the route's (FORBIDDEN)",
  '404': 'no such stack, resource, revision or token (NOT_FOUND)',
};

const cache = new WeakMap<readonly Route[], OpenApiDocument>();

/**
 * The API as an OpenAPI 3.1 document, made from the route table, so it
 * cannot drift from what is served: every route with its parameters and
 * body (JSON Schema from the zod schemas the handlers parse with), the role
 * it needs (`x-drover-role`), bearer security, and what it answers.
 */
export function openApiDocument(routes: readonly Route[]): OpenApiDocument {
  const cached = cache.get(routes);
  if (cached !== undefined) return cached;
  const bodies = bodySchemas(routes);
  const paths: Record<string, Record<string, JsonSchema>> = {
    '/healthz': {
      get: {
        operationId: 'getHealthz',
        summary: 'whether the daemon answers (no token needed)',
        security: [],
        responses: { '200': { description: '{ "ok": true }', content: jsonContent({}) } },
      },
    },
  };
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route, bodies.ids);
  }
  const document: OpenApiDocument = {
    openapi: '3.1.0',
    info: {
      title: 'Drover API',
      version: packageVersion(),
      description:
        'The Drover daemon\'s API. Every route but /healthz needs `Authorization: Bearer <token>`; `x-drover-role` is the least role that may call it (viewer < deployer < admin). Errors are `{ "error": { "code", "message", "details"? } }`.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a Drover token (drv_…)' },
      },
      schemas: { ...bodies.schemas, Error: errorSchema },
      responses: Object.fromEntries(
        Object.entries(errorResponses).map(([status, description]) => [
          `Error${status}`,
          { description, content: jsonContent({ $ref: '#/components/schemas/Error' }) },
        ]),
      ),
    },
  };
  cache.set(routes, document);
  return document;
}

function operation(route: Route, ids: Map<z.ZodType, string>): JsonSchema {
  const output = route.output ?? { type: 'json', description: 'OK' };
  const parameters = [
    ...fields(route.input?.path, 'path', pathNames(route.path)),
    ...fields(route.input?.query, 'query', []),
  ];
  const body = route.input?.body;
  const bodyId = body === undefined ? undefined : ids.get(body);
  const bodySchema = body === undefined ? undefined : inputSchema(body);
  return {
    operationId: operationId(route),
    summary: route.summary ?? `${route.method} ${route.path}`,
    description: `Needs a ${route.role} token.`,
    tags: [tag(route.path)],
    'x-drover-role': route.role,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(bodyId === undefined
      ? {}
      : {
          requestBody: {
            required: Array.isArray(bodySchema?.['required']),
            content: jsonContent({ $ref: `#/components/schemas/${bodyId}` }),
          },
        }),
    responses: {
      [String(output.status ?? 200)]: {
        description: output.description,
        content: { [media[output.type]]: output.type === 'json' ? { schema: {} } : {} },
      },
      ...Object.fromEntries(
        Object.keys(errorResponses)
          // Every valid token is at least a viewer's.
          .filter((status) => status !== '403' || route.role !== 'viewer')
          .map((status) => [status, { $ref: `#/components/responses/Error${status}` }]),
      ),
    },
  };
}

/** Path or query parameters from an object schema; path names without a schema are plain strings. */
function fields(
  schema: z.ZodObject | undefined,
  where: 'path' | 'query',
  names: readonly string[],
): JsonSchema[] {
  const json = schema === undefined ? {} : inputSchema(schema);
  const properties = (json['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json['required'] ?? []) as string[]);
  const all = [...new Set([...names, ...Object.keys(properties)])];
  return all.map((name) => {
    const { description, ...rest } = properties[name] ?? { type: 'string' };
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      schema: rest,
      ...(typeof description === 'string' ? { description } : {}),
    };
  });
}

/** Each distinct body schema under a name (the first operation's, + "Body"), and JsonValue. */
function bodySchemas(routes: readonly Route[]): {
  ids: Map<z.ZodType, string>;
  schemas: Record<string, JsonSchema>;
} {
  const registry = z.registry<{ id: string }>();
  registry.add(jsonValue, { id: 'JsonValue' });
  const ids = new Map<z.ZodType, string>();
  for (const route of routes) {
    const body = route.input?.body;
    if (body === undefined || ids.has(body)) continue;
    const id = `${operationId(route).replace(/^./, (c) => c.toUpperCase())}Body`;
    ids.set(body, id);
    registry.add(body, { id });
  }
  const { schemas } = z.toJSONSchema(registry, {
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return {
    ids,
    schemas: Object.fromEntries(
      Object.entries(schemas).map(([id, schema]) => [id, bare(schema as JsonSchema)]),
    ),
  };
}

function inputSchema(schema: z.ZodType): JsonSchema {
  return bare(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema);
}

/** Without `$schema` and `$id`: the document's dialect is 2020-12 already, and ids would rebase refs. */
function bare(schema: JsonSchema): JsonSchema {
  const rest = { ...schema };
  delete rest['$schema'];
  delete rest['$id'];
  return rest;
}

function jsonContent(schema: JsonSchema): JsonSchema {
  return { 'application/json': { schema } };
}

function pathNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
}

/** `GET /api/stacks/:stack/history` → `getStacksStackHistory`. */
function operationId(route: Route): string {
  const words = route.path
    .replace(/^\/api\//, '/')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '');
  return route.method.toLowerCase() + words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
}

function tag(path: string): string {
  return /^\/api\/([^/]+)/.exec(path)?.[1] ?? 'meta';
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
