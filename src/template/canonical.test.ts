import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { canonicalJson, contentId } from './canonical.js';
import { check, HEADER, removeFixtures } from './testing/fixture.js';

afterAll(removeFixtures);

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, seed));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const rotated = entries.map(
      (_, i) => entries[(i + seed) % entries.length] as [string, unknown],
    );
    return Object.fromEntries(rotated.reverse().map(([k, v]) => [k, shuffleKeys(v, seed + 1)]));
  }
  return value;
}

describe('canonical form', () => {
  it('sorts keys and drops formatting', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: -0, y: 1.5 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"y":1.5,"z":0}}',
    );
  });

  it('is the same whatever the key order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(10), (value, seed) => {
        expect(canonicalJson(shuffleKeys(value, seed))).toBe(canonicalJson(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});

const app = { 'app/server.js': 'console.log(1)\n' };

async function revisions(
  stackYaml: string,
  files: Record<string, string> = app,
): Promise<Record<string, string>> {
  const result = await check({ ...files, 'stack.yaml': stackYaml }, { mode: 'plan' });
  expect(result.diagnostics).toEqual([]);
  return Object.fromEntries((result.stack?.resources ?? []).map((r) => [r.name, r.revision]));
}

describe('revision ids', () => {
  const plain = `${HEADER}resources:
  build: { type: Drover::Artifact, properties: { context: ./app } }
  web:
    type: Drover::Service
    properties:
      artifact: { get_resource: build }
      command: [node, server.js]
      env: { A: "1", B: two }
      health: { http: /healthz, interval: 1s }
`;
  const sameMeaning = `${HEADER}
resources:
  web:
    properties:
      health:
        interval: 1000ms
        http: { path: /healthz }
        timeout: 1s
      env:
        B: "two"
        A: 1
      command:
        - node
        - server.js
      artifact:
        get_resource: build
      replicas: 1
      drift: report
    type: Drover::Service
  build:
    properties:
      context: app
    type: Drover::Artifact
`;

  it('are the same for the same meaning, whatever the order, formatting or spelled-out defaults', async () => {
    expect(await revisions(sameMeaning)).toEqual(await revisions(plain));
  });

  it('are sha256 of the canonical spec', async () => {
    const ids = await revisions(plain);
    for (const id of Object.values(ids)) expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('change when what runs changes, and also for the service when its artifact content changes', async () => {
    const before = await revisions(plain);
    const otherCommand = await revisions(plain.replace('server.js]', 'main.js]'));
    expect(otherCommand['web']).not.toBe(before['web']);
    expect(otherCommand['build']).toBe(before['build']);
    const otherContent = await revisions(plain, { 'app/server.js': 'console.log(2)\n' });
    expect(otherContent['build']).not.toBe(before['build']);
    expect(otherContent['web']).not.toBe(before['web']);
  });

  it('do not change for settings such as replicas or the deploy strategy', async () => {
    const before = await revisions(plain);
    const scaled = await revisions(
      plain.replace(
        '      command:',
        '      replicas: 5\n      deploy: { strategy: blue-green }\n      command:',
      ),
    );
    expect(scaled).toEqual(before);
  });

  it('ignore the context path but not the files in it', async () => {
    const moved = await revisions(plain.replace('./app', './other'), {
      'other/server.js': 'console.log(1)\n',
    });
    expect(moved).toEqual(await revisions(plain));
  });

  it('artifact digests ignore what .droverignore says', async () => {
    const base = await revisions(plain, { ...app, 'app/.droverignore': 'logs\n*.tmp\n' });
    const noisy = await revisions(plain, {
      ...app,
      'app/.droverignore': 'logs\n*.tmp\n',
      'app/logs/today.log': 'x',
      'app/a.tmp': 'y',
    });
    expect(noisy).toEqual(base);
  });

  it('is the content id of the same value', () => {
    expect(contentId({ a: 1, b: 2 })).toBe(contentId({ b: 2, a: 1 }));
  });
});
