import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { Fingerprint } from '../runtime/index.js';

import type { DriftChange } from './drift.js';
import { describeChange, diffFingerprint } from './drift.js';

const PROCESS: Fingerprint = {
  runtime: 'process',
  command: ['node', 'server.js'],
  env: { PORT: '4001', TOKEN: 'tok-1111' },
  cwd: '/home/drover/instances/web-1',
  files: { 'server.js': 'sha256:s1', 'lib/db.js': 'sha256:d1' },
  mounts: [{ source: '/var/lib/drover/volumes/data', target: 'data', readOnly: false }],
};

const DOCKER: Fingerprint = {
  runtime: 'docker',
  image: 'sha256:aaaa',
  env: { PORT: '4001' },
  labels: { 'drover.stack': 'shop', tier: 'front' },
  mounts: [],
  // Taken when the instance became ready: what the app itself writes at start is its baseline.
  changes: [
    { path: '/tmp/app.pid', kind: 'added' },
    { path: '/etc/hosts', kind: 'changed' },
  ],
};

describe('diffFingerprint', () => {
  it('finds nothing in identical fingerprints', () => {
    expect(diffFingerprint(PROCESS, structuredClone(PROCESS))).toEqual([]);
    expect(diffFingerprint(DOCKER, structuredClone(DOCKER))).toEqual([]);
  });

  it('reports files of a process by path: removed and changed in path order, then added', () => {
    const expected = { ...PROCESS, files: { a: 'h1', b: 'h2', c: 'h3', 'd/x': 'h4' } };
    const actual = { ...PROCESS, files: { e: 'h5', c: 'h3-new', 'd/x': 'h4', '0': 'h6', a: 'h9' } };
    expect(diffFingerprint(expected, actual)).toEqual([
      { field: 'file', path: 'a', kind: 'changed' },
      { field: 'file', path: 'b', kind: 'deleted' },
      { field: 'file', path: 'c', kind: 'changed' },
      { field: 'file', path: '0', kind: 'added' },
      { field: 'file', path: 'e', kind: 'added' },
    ]);
  });

  it('reports environment variables by name, never their values', () => {
    const [same, was, now, gone, fresh] = [
      's3cr1t-a',
      's3cr1t-b',
      's3cr1t-c',
      's3cr1t-d',
      's3cr1t-e',
    ];
    const expected = { ...PROCESS, env: { A: same, B: was, C: gone } };
    const actual = { ...PROCESS, env: { D: fresh, B: now, A: same } };
    const changes = diffFingerprint(expected, actual);
    expect(changes).toEqual([
      { field: 'env', name: 'B', kind: 'changed' },
      { field: 'env', name: 'C', kind: 'removed' },
      { field: 'env', name: 'D', kind: 'added' },
    ]);
    const text = JSON.stringify(changes) + changes.map(describeChange).join('\n');
    expect(text).not.toMatch(/s3cr1t/);
  });

  it.each([
    ['command', { command: ['node', 'other.js'] }, '["node","server.js"]', '["node","other.js"]'],
    ['cwd', { cwd: '/srv/web' }, '/home/drover/instances/web-1', '/srv/web'],
    ['image', { image: 'sha256:bbbb' }, '', 'sha256:bbbb'],
  ] as const)('shows %s before and after', (field, change, before, after) => {
    expect(diffFingerprint(PROCESS, { ...PROCESS, ...change })).toEqual([{ field, before, after }]);
  });

  it('compares a command only when both sides know it', () => {
    const none = { ...PROCESS, command: undefined };
    expect(diffFingerprint(PROCESS, none)).toEqual([]);
    expect(diffFingerprint(none, PROCESS)).toEqual([]);
  });

  it('compares mounts in any order, read-only included', () => {
    const data = { source: '/v/data', target: 'data', readOnly: false };
    const conf = { source: '/v/conf', target: 'conf', readOnly: true };
    const expected = { ...PROCESS, mounts: [data, conf] };
    expect(diffFingerprint(expected, { ...PROCESS, mounts: [conf, data] })).toEqual([]);
    expect(
      diffFingerprint(expected, { ...PROCESS, mounts: [conf, { ...data, readOnly: true }] }),
    ).toEqual([
      {
        field: 'mounts',
        before: '/v/conf:conf:ro, /v/data:data',
        after: '/v/conf:conf:ro, /v/data:data:ro',
      },
    ]);
  });

  it('takes docker diff entries of the baseline as they were, and reports the rest', () => {
    const actual: Fingerprint = {
      ...DOCKER,
      changes: [
        { path: '/tmp/app.pid', kind: 'added' },
        { path: '/etc/hosts', kind: 'deleted' },
        { path: '/usr/bin/curl', kind: 'added' },
      ],
    };
    expect(diffFingerprint(DOCKER, actual)).toEqual([
      { field: 'file', path: '/etc/hosts', kind: 'deleted' },
      { field: 'file', path: '/usr/bin/curl', kind: 'added' },
    ]);
    const noBaseline = { ...DOCKER, changes: undefined };
    expect(diffFingerprint(noBaseline, actual)).toHaveLength(3);
    expect(diffFingerprint(DOCKER, noBaseline)).toEqual([]);
  });

  it('reports labels by name; none and empty are the same', () => {
    const actual = { ...DOCKER, labels: { 'drover.stack': 'shop', tier: 'back', zone: 'a' } };
    expect(diffFingerprint(DOCKER, actual)).toEqual([
      { field: 'label', name: 'tier', kind: 'changed' },
      { field: 'label', name: 'zone', kind: 'added' },
    ]);
    const none = { ...DOCKER, labels: undefined };
    expect(diffFingerprint(none, { ...DOCKER, labels: {} })).toEqual([]);
  });

  it('lists image, cwd, command, mounts, env, labels, then files', () => {
    const expected: Fingerprint = { ...PROCESS, image: 'i1', labels: { l: '1' } };
    const actual: Fingerprint = {
      ...PROCESS,
      image: 'i2',
      cwd: '/elsewhere',
      command: ['node'],
      mounts: [],
      env: { PORT: '4001' },
      labels: {},
      files: {},
    };
    expect(diffFingerprint(expected, actual).map((c) => c.field)).toEqual([
      'image',
      'cwd',
      'command',
      'mounts',
      'env',
      'label',
      'file',
      'file',
    ]);
  });

  // Fails today: diffRecords asks `name in record`, which also sees what a
  // plain object inherits (toString, constructor, hasOwnProperty…), so a
  // variable or file with such a name is missed when added and reported as
  // `changed` instead of `removed` when removed.
  it.each(['toString', 'constructor'])('sees a variable or file named %s', (name) => {
    const env = { PORT: '4001' };
    const added = { ...PROCESS, env: { ...env, [name]: 'x' } };
    expect(diffFingerprint({ ...PROCESS, env }, added)).toEqual([
      { field: 'env', name, kind: 'added' },
    ]);
    expect(diffFingerprint(added, { ...PROCESS, env })).toEqual([
      { field: 'env', name, kind: 'removed' },
    ]);
    const files = { ...PROCESS.files, [name]: 'sha256:x' };
    expect(diffFingerprint({ ...PROCESS, files }, PROCESS)).toEqual([
      { field: 'file', path: name, kind: 'deleted' },
    ]);
  });
});

describe('describeChange', () => {
  const cases: [DriftChange, string][] = [
    [{ field: 'file', path: 'app/server.js', kind: 'changed' }, 'file app/server.js changed'],
    [{ field: 'file', path: '/usr/bin/curl', kind: 'added' }, 'file /usr/bin/curl added'],
    [{ field: 'env', name: 'DEBUG', kind: 'added' }, 'env DEBUG added'],
    [{ field: 'label', name: 'tier', kind: 'removed' }, 'label tier removed'],
    [{ field: 'image', before: 'sha256:a', after: 'sha256:b' }, 'image sha256:a → sha256:b'],
    [{ field: 'cwd', before: '', after: '/srv' }, 'cwd (none) → /srv'],
    [{ field: 'command', before: '["node"]', after: '["bun"]' }, 'command ["node"] → ["bun"]'],
    [{ field: 'mounts', before: '/v:data:ro', after: '' }, 'mounts /v:data:ro → (none)'],
  ];
  it.each(cases)('%j', (change, text) => {
    expect(describeChange(change)).toBe(text);
  });
});

describe('diffFingerprint: properties', () => {
  // Small domains, so that equal fields are common; no ':' or ', ' in mount
  // paths, which the rendering of mounts uses as separators.
  const word = fc.constantFrom('a', 'b', 'lib/c');
  const record = fc.dictionary(fc.constantFrom('A', 'B', 'C'), fc.constantFrom('1', '2'), {
    maxKeys: 3,
  });
  const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
    fc.option(arb, { nil: undefined });
  const fingerprint: fc.Arbitrary<Fingerprint> = fc.record({
    runtime: fc.constantFrom('process', 'docker'),
    command: optional(fc.array(word, { maxLength: 2 })),
    env: record,
    cwd: optional(word),
    files: optional(fc.dictionary(word, fc.constantFrom('h1', 'h2'), { maxKeys: 3 })),
    image: optional(fc.constantFrom('sha256:a', 'sha256:b')),
    labels: optional(record),
    mounts: optional(
      fc.array(fc.record({ source: word, target: word, readOnly: fc.boolean() }), { maxLength: 2 }),
    ),
    changes: optional(
      fc.uniqueArray(
        fc.record({ path: word, kind: fc.constantFrom('added', 'changed', 'deleted') }),
        { selector: (c) => c.path, maxLength: 3 },
      ),
    ),
  });

  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const sorted = (r: Readonly<Record<string, string>> = {}): [string, string][] =>
    Object.entries(r).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  /** What diffFingerprint compares, written out independently. */
  function equivalent(a: Fingerprint, b: Fingerprint): boolean {
    const mounts = (x: Fingerprint): string[] =>
      (x.mounts ?? []).map((m) => JSON.stringify([m.source, m.target, m.readOnly])).sort();
    return (
      a.image === b.image &&
      a.cwd === b.cwd &&
      (a.command === undefined || b.command === undefined || same(a.command, b.command)) &&
      same(mounts(a), mounts(b)) &&
      same(sorted(a.env), sorted(b.env)) &&
      same(sorted(a.labels), sorted(b.labels)) &&
      (a.files === undefined || b.files === undefined || same(sorted(a.files), sorted(b.files))) &&
      (b.changes ?? []).every((c) =>
        (a.changes ?? []).some((e) => e.path === c.path && e.kind === c.kind),
      )
    );
  }

  it('finds nothing between a fingerprint and itself', () => {
    fc.assert(
      fc.property(fingerprint, (x) => {
        expect(diffFingerprint(x, x)).toEqual([]);
        expect(diffFingerprint(x, structuredClone(x))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('finds something exactly when a compared field differs', () => {
    fc.assert(
      fc.property(fingerprint, fingerprint, (a, b) => {
        expect(diffFingerprint(a, b).length === 0).toBe(equivalent(a, b));
      }),
      { numRuns: 500 },
    );
  });
});
