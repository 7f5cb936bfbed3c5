import { afterAll, describe, expect, it } from 'vitest';

import { formatDiagnostic } from './index.js';
import { check, HEADER, removeFixtures } from './testing/fixture.js';

afterAll(removeFixtures);

/** Resolves a template (plan mode) and returns its outputs by name. */
async function outputs(
  body: string,
  params: Record<string, string> = {},
  files: Record<string, string> = {},
) {
  const result = await check(
    { ...files, 'stack.yaml': `${HEADER}${body}` },
    { mode: 'plan', params },
  );
  expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
  return Object.fromEntries((result.stack?.outputs ?? []).map((o) => [o.name, o.value]));
}

const params = `parameters:
  name: { type: string, default: web }
  port: { type: number, default: 8080 }
  flag: { type: boolean, default: true }
  tags: { type: comma_delimited_list, default: "a, b,c" }
  conf: { type: json, default: { db: { host: db.local, ports: [5432, 5433] } } }
  secret: { type: string, default: s3cret, hidden: true }
`;

describe('intrinsic functions', () => {
  it('get_param returns values typed by their parameter, and follows key paths', async () => {
    const out = await outputs(`${params}outputs:
  s: { value: { get_param: name } }
  n: { value: { get_param: port } }
  b: { value: { get_param: flag } }
  l: { value: { get_param: tags } }
  host: { value: { get_param: [conf, db, host] } }
  second: { value: { get_param: [conf, db, ports, 1] } }
  tag: { value: { get_param: [tags, 2] } }
`);
    expect(out).toEqual({
      s: 'web',
      n: 8080,
      b: true,
      l: ['a', 'b', 'c'],
      host: 'db.local',
      second: 5433,
      tag: 'c',
    });
  });

  it('get_param uses given values over defaults, read as the parameter type', async () => {
    const out = await outputs(
      `${params}outputs:\n  n: { value: { get_param: port } }\n  l: { value: { get_param: tags } }\n  b: { value: { get_param: flag } }\n`,
      {
        port: '9090',
        tags: 'x,y',
        flag: 'no',
      },
    );
    expect(out).toEqual({ n: 9090, l: ['x', 'y'], b: false });
  });

  it('get_param of a hidden parameter shows as (hidden), and taints what is built from it', async () => {
    const out = await outputs(`${params}outputs:
  raw: { value: { get_param: secret } }
  joined: { value: { list_join: [":", [user, { get_param: secret }]] } }
  replaced: { value: { str_replace: { template: "key=K", params: { K: { get_param: secret } } } } }
  same: { value: { equals: [{ get_param: secret }, s3cret] } }
`);
    expect(out).toEqual({ raw: '(hidden)', joined: '(hidden)', replaced: '(hidden)', same: true });
  });

  it('get_resource and get_attr refer to resources and their attributes', async () => {
    const out = await outputs(
      `resources:
  build: { type: Drover::Artifact, properties: { context: ./app } }
  web:
    type: Drover::Service
    properties: { artifact: { get_resource: build }, command: [node, s.js], replicas: 3 }
  route:
    type: Drover::Route
    properties: { host: app.localhost, path: /api, service: { get_resource: web } }
  data: { type: Drover::Volume }
outputs:
  ref: { value: { get_resource: web } }
  url: { value: { get_attr: [route, url] } }
  replicas: { value: { get_attr: [web, replicas] } }
  volume: { value: { get_attr: [data, path] } }
`,
      {},
      { 'app/s.js': '' },
    );
    expect(out).toEqual({
      ref: 'web',
      url: 'http://app.localhost:8080/api',
      replicas: 3,
      volume: '/var/lib/drover-test/volumes/test/data',
    });
  });

  it('list_join joins one or more lists', async () => {
    const out = await outputs(`${params}outputs:
  one: { value: { list_join: [", ", [a, b, 1]] } }
  many: { value: { list_join: ["-", [a], { get_param: tags }] } }
  empty: { value: { list_join: [",", []] } }
`);
    expect(out).toEqual({ one: 'a, b, 1', many: 'a-a-b-c', empty: '' });
  });

  it('str_replace replaces every occurrence, longest key first, never re-replacing', async () => {
    const out = await outputs(`${params}outputs:
  url: { value: { str_replace: { template: "http://HOST:PORT/HOSTNAME", params: { HOST: h, HOSTNAME: n, PORT: { get_param: port } } } } }
  swap: { value: { str_replace: { template: "ab", params: { a: b, b: a } } } }
`);
    expect(out).toEqual({ url: 'http://h:8080/n', swap: 'ba' });
  });

  it('if chooses by a condition name or an inline condition', async () => {
    const out = await outputs(`${params}conditions:
  on: { get_param: flag }
outputs:
  named: { value: { if: [on, yes-branch, no-branch] } }
  inline: { value: { if: [{ equals: [{ get_param: port }, 1] }, one, other] } }
`);
    expect(out).toEqual({ named: 'yes-branch', inline: 'other' });
  });

  it('equals, and, or and not compute booleans', async () => {
    const out = await outputs(`${params}conditions:
  t: true
  f: false
outputs:
  eq: { value: { equals: [{ get_param: conf }, { db: { host: db.local, ports: [5432, 5433] } }] } }
  ne: { value: { equals: [1, "1"] } }
  and: { value: { and: [t, f] } }
  or: { value: { or: [f, t] } }
  not: { value: { not: f } }
  nested: { value: { and: [t, { or: [f, { not: f }] }] } }
`);
    expect(out).toEqual({ eq: true, ne: false, and: false, or: true, not: true, nested: true });
  });

  it('find_in_map looks up two levels, keys from parameters', async () => {
    const out = await outputs(
      `parameters:\n  env: { type: string, default: prod }\nmappings:\n  sizes:\n    dev: { memory: 128Mi, replicas: 1 }\n    prod: { memory: 1Gi, replicas: 3 }\noutputs:\n  m: { value: { find_in_map: [sizes, { get_param: env }, memory] } }\n  r: { value: { find_in_map: [sizes, dev, replicas] } }\n`,
    );
    expect(out).toEqual({ m: '1Gi', r: 1 });
  });

  it('get_file reads a file next to the template', async () => {
    const out = await outputs(
      'outputs:\n  f: { value: { get_file: conf/app.conf } }\n',
      {},
      { 'conf/app.conf': 'listen 80;\n' },
    );
    expect(out).toEqual({ f: 'listen 80;\n' });
  });

  it('get_file refuses a symbolic link out of the template directory', async () => {
    const { symlinkSync } = await import('node:fs');
    const { join } = await import('node:path');
    const result = await check({ 'outside.txt': 'secret', 'sub/': '' });
    symlinkSync(join(result.dir, 'outside.txt'), join(result.dir, 'sub', 'link.txt'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(result.dir, 'sub', 'stack.yaml'),
      `${HEADER}outputs:\n  o: { value: { get_file: link.txt } }\n`,
    );
    const { compileStack } = await import('./index.js');
    const again = await compileStack(join(result.dir, 'sub', 'stack.yaml'), {
      stack: 't',
      mode: 'plan',
      hiddenKey: new Uint8Array(32),
      home: '/tmp',
    });
    expect(again.diagnostics.map((d) => d.code)).toEqual(['PATH_ESCAPE']);
  });

  it('evaluates functions nested inside each other', async () => {
    const out = await outputs(`${params}outputs:
  o:
    value:
      list_join:
        - "/"
        - - { if: [{ not: { equals: [{ get_param: name }, db] } }, { str_replace: { template: svc-N, params: { N: { get_param: name } } } }, none] }
          - { get_param: [tags, 0] }
`);
    expect(out).toEqual({ o: 'svc-web/a' });
  });

  it('reports a bad value at run time where the function is written', async () => {
    const result = await check(
      {
        'stack.yaml': `${HEADER}${params}outputs:\n  o: { value: { list_join: [",", { get_param: name }] } }\n`,
      },
      { mode: 'plan' },
    );
    expect(result.diagnostics.map((d) => [d.code, d.loc?.line])).toEqual([['TYPE', 10]]);
  });
});
