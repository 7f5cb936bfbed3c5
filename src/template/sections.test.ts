import { afterAll, describe, expect, it } from 'vitest';

import type { ResolvedStack } from './index.js';
import { formatDiagnostic } from './index.js';
import { check, HEADER, removeFixtures } from './testing/fixture.js';

afterAll(removeFixtures);

async function resolve(
  files: Record<string, string>,
  params: Record<string, string> = {},
  mode: 'plan' | 'validate' = 'plan',
): Promise<ResolvedStack> {
  const result = await check(files, { mode, params });
  expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
  if (!result.stack) throw new Error('no stack');
  return result.stack;
}

const app = { 'app/server.js': 'console.log("hi")\n' };
const artifact = '  build: { type: Drover::Artifact, properties: { context: ./app } }\n';

describe('parameters', () => {
  it('take types, defaults, descriptions and hidden values', async () => {
    const stack = await resolve(
      {
        'stack.yaml': `${HEADER}parameters:
  a: { type: string, default: x, description: the a }
  b: { type: number, default: 2.5 }
  c: { type: boolean }
  d: { type: json, default: [1, 2] }
  e: { type: comma_delimited_list, default: [x, y] }
  f: { type: string, hidden: true }
`,
      },
      { c: 'true', f: 'top-secret' },
    );
    expect(stack.parameters.map((p) => [p.name, p.type, p.value, p.required])).toEqual([
      ['a', 'string', 'x', false],
      ['b', 'number', 2.5, false],
      ['c', 'boolean', true, true],
      ['d', 'json', [1, 2], false],
      ['e', 'comma_delimited_list', ['x', 'y'], false],
      ['f', 'string', expect.objectContaining({ $hidden: expect.any(String) }), true],
    ]);
    expect(JSON.stringify(stack)).not.toContain('top-secret');
  });

  it('enforce every kind of constraint on given values, with custom messages', async () => {
    const template = `${HEADER}parameters:
  n:
    type: number
    default: 5
    constraints: [ { range: { min: 1, max: 10 } } ]
  s:
    type: string
    default: abc
    constraints:
      - length: { min: 2, max: 4 }
      - allowed_pattern: "[a-z]+"
        description: lowercase letters only
  l:
    type: comma_delimited_list
    default: a
    constraints: [ { allowed_values: [a, b] } ]
`;
    const result = await check(
      { 'stack.yaml': template },
      { mode: 'plan', params: { n: '11', s: 'ABCDE', l: 'a,c' } },
    );
    expect(result.diagnostics.map((d) => `${d.source} ${d.code} ${d.message}`)).toEqual([
      '-p l CONSTRAINT parameter \'l\': string \'c\' is not one of "a", "b"',
      "-p n CONSTRAINT parameter 'n': number 11 is outside the range 1..10",
      "-p s CONSTRAINT parameter 's': length 5 is outside 2..4",
      "-p s CONSTRAINT parameter 's': lowercase letters only",
    ]);
  });

  it('never quote a hidden value in a message', async () => {
    const result = await check(
      {
        'stack.yaml': `${HEADER}parameters:\n  k:\n    type: string\n    hidden: true\n    constraints: [ { length: { min: 20 } } ]\n`,
      },
      { mode: 'plan', params: { k: 'short-secret' } },
    );
    expect(result.diagnostics).toHaveLength(1);
    expect(JSON.stringify(result.diagnostics)).not.toContain('short-secret');
  });

  it('check that constraints fit their type', async () => {
    const result = await check({
      'stack.yaml': `${HEADER}parameters:\n  b:\n    type: boolean\n    default: true\n    constraints: [ { range: { min: 1 } } ]\n`,
    });
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      "parameter 'b' is a boolean; constraint range does not apply to it",
    ]);
  });

  it('are not needed for validate, which lists the required ones', async () => {
    const result = await check({
      'stack.yaml': `${HEADER}parameters:\n  key: { type: string }\n  opt: { type: string, default: x }\n`,
    });
    expect(result.diagnostics).toEqual([]);
    expect(result.requiredParameters).toEqual(['key']);
  });
});

describe('mappings and conditions', () => {
  it('conditions leave resources and outputs out, and are built from equals/and/or/not and other conditions', async () => {
    const template = `${HEADER}parameters:
  env: { type: string, default: dev }
conditions:
  is_prod: { equals: [{ get_param: env }, prod] }
  is_dev: { not: is_prod }
  both: { and: [is_dev, { or: [is_prod, true] }] }
resources:
  prod_only: { type: Drover::Volume, condition: is_prod }
  dev_only: { type: Drover::Volume, condition: both }
  always: { type: Drover::Volume }
outputs:
  prod_out: { value: p, condition: is_prod }
  dev_out: { value: d, condition: { not: is_prod } }
`;
    const dev = await resolve({ 'stack.yaml': template });
    expect(dev.resources.map((r) => r.name)).toEqual(['dev_only', 'always']);
    expect(dev.outputs.map((o) => o.name)).toEqual(['dev_out']);
    const prod = await resolve({ 'stack.yaml': template }, { env: 'prod' });
    expect(prod.resources.map((r) => r.name)).toEqual(['prod_only', 'always']);
    expect(prod.outputs.map((o) => o.name)).toEqual(['prod_out']);
  });

  it('a condition must come out boolean', async () => {
    const result = await check(
      {
        'stack.yaml': `${HEADER}parameters:\n  s: { type: string, default: x }\nconditions:\n  c: { get_param: s }\n`,
      },
      { mode: 'plan' },
    );
    expect(result.diagnostics.map((d) => [d.code, d.loc?.line])).toEqual([['TYPE', 5]]);
  });

  it('mappings are two-level tables', async () => {
    const result = await check({ 'stack.yaml': `${HEADER}mappings:\n  m: { a: 1 }\n` });
    expect(result.diagnostics.map((d) => [d.code, d.loc?.line])).toEqual([['TYPE', 3]]);
  });
});

describe('resources', () => {
  it('come out in dependency order, from references and depends_on', async () => {
    const stack = await resolve({
      ...app,
      'stack.yaml': `${HEADER}resources:
  route:
    type: Drover::Route
    properties: { service: { get_resource: web } }
  web:
    type: Drover::Service
    depends_on: [data]
    properties: { artifact: { get_resource: build }, command: [node, server.js] }
${artifact}  data: { type: Drover::Volume, deletion_policy: retain }
`,
    });
    expect(stack.resources.map((r) => [r.name, r.dependsOn])).toEqual([
      ['build', []],
      ['data', []],
      ['web', ['build', 'data']],
      ['route', ['web']],
    ]);
    expect(stack.resources.find((r) => r.name === 'data')?.deletionPolicy).toBe('retain');
  });

  it('take every resource type of the language', async () => {
    const stack = await resolve({
      ...app,
      'nginx.hbs': '{{#each endpoints}}server {{address}}:{{port}};{{/each}}\n',
      'stack.yaml': `${HEADER}resources:
${artifact}  data: { type: Drover::Volume }
  conf: { type: Drover::Config, properties: { content: "a=1" } }
  key: { type: Drover::Secret, properties: { content: hunter2 } }
  web:
    type: Drover::Service
    properties:
      artifact: { get_resource: build }
      command: [node, server.js]
      env: { PORT_HINT: 1, DEBUG: false }
      replicas: 2
      health: { http: { path: /healthz, status: 204 }, interval: 500ms, timeout: 2s, start_period: 1m }
      deploy: { strategy: canary, steps: [ { weight: 5, pause: 10s }, { weight: 100 } ], analysis: { max_error_rate: 0.02, max_p99_latency: 250ms } }
      resources: { memory: 256Mi, cpu: 500m }
      volumes: [ { volume: { get_resource: data }, path: data } ]
      configs: [ { config: { get_resource: conf }, path: conf/app.ini } ]
      secrets: [ { secret: { get_resource: key }, path: secrets/key } ]
      drift: replace
  nightly:
    type: Drover::Job
    properties: { artifact: { get_resource: build }, command: [node, server.js], schedule: "0 3 * * *", retries: 2 }
  route: { type: Drover::Route, properties: { host: "*.app.localhost", service: { get_resource: web } } }
  upstreams:
    type: Drover::ConfigTemplate
    properties: { template_file: nginx.hbs, destination: /tmp/upstreams.conf, service: { get_resource: web }, reload: [nginx, -s, reload] }
`,
    });
    const web = stack.resources.find((r) => r.name === 'web');
    expect(web?.type).toBe('Drover::Service');
    if (web?.type !== 'Drover::Service') return;
    expect(web.properties.env).toEqual({ PORT_HINT: '1', DEBUG: 'false' });
    expect(web.properties.health).toMatchObject({
      http: { path: '/healthz', status: 204 },
      interval: 500,
      timeout: 2000,
      start_period: 60_000,
    });
    expect(web.properties.resources).toEqual({ memory: 256 * 2 ** 20, cpu: 0.5 });
    expect(web.properties.runtime).toBe('process');
    expect(web.properties.deploy).toEqual({
      strategy: 'canary',
      max_surge: 1,
      steps: [
        { weight: 5, pause: 10_000 },
        { weight: 100, pause: 0 },
      ],
      analysis: { max_error_rate: 0.02, max_p99_latency: 250, min_requests: 0 },
    });
    expect(web.spec['secrets']).toEqual([
      {
        secret: { $ref: 'key', revision: expect.stringMatching(/^[0-9a-f]{64}$/) },
        path: 'secrets/key',
      },
    ]);
    const key = stack.resources.find((r) => r.name === 'key');
    expect(JSON.stringify(key?.spec)).not.toContain('hunter2');
    const upstreams = stack.resources.find((r) => r.name === 'upstreams');
    expect(upstreams?.spec['template']).toContain('{{#each endpoints}}');
    expect(stack.resources.find((r) => r.name === 'route')?.attributes['url']).toBe(
      'http://app.localhost:8080/',
    );
  });

  it('a Dockerfile makes a Docker image and the docker runtime', async () => {
    const stack = await resolve({
      'img/Dockerfile': 'FROM scratch\n',
      'stack.yaml': `${HEADER}resources:\n  img: { type: Drover::Artifact, properties: { context: ./img, dockerfile: Dockerfile } }\n  svc: { type: Drover::Service, properties: { artifact: { get_resource: img } } }\n`,
    });
    const svc = stack.resources.find((r) => r.name === 'svc');
    expect(svc?.type === 'Drover::Service' && svc.properties.runtime).toBe('docker');
  });

  it('a process runtime for an image, or a process without command, are errors', async () => {
    const result = await check({
      ...app,
      'img/Dockerfile': 'FROM scratch\n',
      'stack.yaml': `${HEADER}resources:
  img: { type: Drover::Artifact, properties: { context: ./img, dockerfile: Dockerfile } }
${artifact}  a: { type: Drover::Service, properties: { artifact: { get_resource: img }, runtime: process } }
  b: { type: Drover::Service, properties: { artifact: { get_resource: build } } }
`,
    });
    expect(result.diagnostics.map((d) => [d.code, d.loc?.line])).toEqual([
      ['INVALID_VALUE', 5],
      ['REQUIRED', 6],
    ]);
  });
});

describe('config templates', () => {
  it('a Handlebars template that does not compile is reported where it is written', async () => {
    const result = await check({
      ...app,
      'stack.yaml': `${HEADER}resources:
${artifact}  web: { type: Drover::Service, properties: { artifact: { get_resource: build }, command: [node, server.js] } }
  conf:
    type: Drover::ConfigTemplate
    properties:
      template: "{{#each endpoints}}{{address}}"
      destination: /tmp/x.conf
`,
    });
    expect(result.diagnostics.map((d) => [d.code, d.loc?.line])).toEqual([['INVALID_VALUE', 8]]);
    expect(result.diagnostics[0]?.message).toContain('does not compile');
  });
});

describe('nested stacks', () => {
  it('take their parameters from properties, give their outputs as attributes, and qualify their resources', async () => {
    const stack = await resolve({
      ...app,
      'db/db.yaml': `${HEADER}parameters:
  size: { type: string }
  password: { type: string, hidden: true }
resources:
  data: { type: Drover::Volume }
  conf: { type: Drover::Config, properties: { content: { str_replace: { template: "size=S pw=P", params: { S: { get_param: size }, P: { get_param: password } } } } } }
outputs:
  data_path: { value: { get_attr: [data, path] } }
`,
      'stack.yaml': `${HEADER}parameters:
  pw: { type: string, hidden: true, default: pa55 }
resources:
${artifact}  db:
    type: db/db.yaml
    properties: { size: small, password: { get_param: pw } }
  web:
    type: Drover::Service
    properties:
      artifact: { get_resource: build }
      command: [node, server.js]
      env: { DATA: { get_attr: [db, data_path] } }
`,
    });
    expect(stack.resources.map((r) => [r.name, r.dependsOn])).toEqual([
      ['build', []],
      ['db.data', []],
      ['db.conf', []],
      ['web', ['build', 'db.data', 'db.conf']],
    ]);
    const web = stack.resources.find((r) => r.name === 'web');
    expect(web?.type === 'Drover::Service' && web.properties.env).toEqual({
      DATA: '/var/lib/drover-test/volumes/test/db.data',
    });
    const conf = stack.resources.find((r) => r.name === 'db.conf');
    expect(conf?.spec['content']).toEqual({ $hidden: expect.any(String) });
  });

  it('report wrong parameter values where the parent gives them', async () => {
    const result = await check(
      {
        'child.yaml': `${HEADER}parameters:\n  n: { type: number }\n`,
        'stack.yaml': `${HEADER}resources:\n  c:\n    type: ./child.yaml\n    properties:\n      n: lots\n`,
      },
      { mode: 'plan' },
    );
    expect(
      result.diagnostics.map((d) => [d.code, d.loc?.file.endsWith('stack.yaml'), d.loc?.line]),
    ).toEqual([['PARAMETER_VALUE', true, 6]]);
  });
});

describe('JSON templates', () => {
  it('mean the same as their YAML twins', async () => {
    const yaml = await resolve({ ...app, 'stack.yaml': `${HEADER}resources:\n${artifact}` });
    const json = await check(
      {
        ...app,
        'stack.json': JSON.stringify({
          drover_template_version: '2026-11-21',
          resources: { build: { type: 'Drover::Artifact', properties: { context: './app' } } },
        }),
      },
      { mode: 'plan', file: 'stack.json' },
    );
    expect(json.stack?.resources.map((r) => r.revision)).toEqual(
      yaml.resources.map((r) => r.revision),
    );
  });
});
