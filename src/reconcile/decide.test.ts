import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type {
  Decision,
  InstanceView,
  OrphanView,
  ReconcileSettings,
  ReconcileView,
  ServiceView,
} from './decide.js';
import { decide, DEFAULT_SETTINGS, healAllowedAt, recentFailures } from './decide.js';

const NOW = 1_700_000_000_000;
const S = DEFAULT_SETTINGS; // grace 10 s, window 60 s, 5 crashes, backoff 1 s … 30 s

function service(overrides: Partial<ServiceView> = {}): ServiceView {
  return {
    stack: 'shop',
    service: 'web',
    revision: 'r2',
    replicas: 1,
    maxSurge: 1,
    drift: 'report',
    busy: false,
    failures: [],
    crashes: [],
    healing: 0,
    failed: false,
    ...overrides,
  };
}

function instance(id: string, overrides: Partial<InstanceView> = {}): InstanceView {
  return {
    id,
    stack: 'shop',
    service: 'web',
    revision: 'r2',
    state: 'running',
    observed: 'running',
    health: 'healthy',
    drifted: false,
    replacing: false,
    ...overrides,
  };
}

function view(parts: {
  services?: ServiceView[];
  instances?: InstanceView[];
  orphans?: OrphanView[];
}): ReconcileView {
  return { now: NOW, services: [], instances: [], orphans: [], settings: S, ...parts };
}

const at = { stack: 'shop', service: 'web' } as const;
const start = (count: number, reason: string): Decision => ({
  kind: 'start',
  ...at,
  revision: 'r2',
  count,
  reason,
});

describe('decide: one rule at a time', () => {
  const cases: [name: string, view: ReconcileView, expected: Decision[]][] = [
    [
      'an exited record of the current revision is forgotten and started again',
      view({ services: [service()], instances: [instance('web-1', { observed: 'exited' })] }),
      [
        { kind: 'forget', instance: 'web-1', ...at, reason: 'it exited' },
        start(1, '1 instance of web stopped running'),
      ],
    ],
    [
      'a record the runtime no longer knows is forgotten and started again',
      view({
        services: [service({ replicas: 2 })],
        instances: [instance('web-1', { observed: 'missing' }), instance('web-2')],
      }),
      [
        { kind: 'forget', instance: 'web-1', ...at, reason: 'its runtime no longer knows it' },
        start(1, '1 instance of web stopped running'),
      ],
    ],
    [
      'a service short of replicas with nothing lost says how many run',
      view({ services: [service({ replicas: 3 })], instances: [instance('web-1')] }),
      [start(2, 'web runs 1 of 3 replicas')],
    ],
    [
      'a busy service gets no decisions at all',
      view({
        services: [service({ busy: true, replicas: 3, drift: 'replace', crashes: [NOW - 1] })],
        instances: [
          instance('web-1', { observed: 'exited' }),
          instance('web-2', { health: 'unhealthy' }),
          instance('web-3', { drifted: true }),
        ],
      }),
      [],
    ],
    [
      'a starting record is not live: it is counted in healing',
      view({
        services: [service({ replicas: 2, healing: 1 })],
        instances: [instance('web-1'), instance('web-2', { state: 'starting', health: 'unknown' })],
      }),
      [],
    ],
    [
      'so it takes no surge room from a replacement',
      view({
        services: [service({ replicas: 2, maxSurge: 1, healing: 1 })],
        instances: [
          instance('web-1', { health: 'unhealthy' }),
          instance('web-2', { state: 'starting', health: 'unknown' }),
        ],
      }),
      [{ kind: 'replace', instance: 'web-1', ...at, revision: 'r2', reason: 'unhealthy' }],
    ],
    [
      'a stopping record is not live either',
      view({
        services: [service({ replicas: 1 })],
        instances: [instance('web-1', { state: 'stopping' })],
      }),
      [start(1, 'web runs 0 of 1 replicas')],
    ],
    [
      'a starting or stopping record is never forgotten, whatever the runtime says',
      view({
        services: [service({ replicas: 1, healing: 1 })],
        instances: [
          instance('web-1', { state: 'starting', observed: 'exited' }),
          instance('web-2', { state: 'stopping', observed: 'missing' }),
        ],
      }),
      [],
    ],
    [
      'an unhealthy instance with surge room is replaced',
      view({ services: [service()], instances: [instance('web-1', { health: 'unhealthy' })] }),
      [{ kind: 'replace', instance: 'web-1', ...at, revision: 'r2', reason: 'unhealthy' }],
    ],
    [
      'an unhealthy instance already being replaced is left alone',
      view({
        services: [service({ maxSurge: 2, healing: 1 })],
        instances: [instance('web-1', { health: 'unhealthy', replacing: true })],
      }),
      [],
    ],
    [
      'an unhealthy instance without surge room is retired',
      view({
        services: [service({ maxSurge: 0 })],
        instances: [instance('web-1', { health: 'unhealthy' })],
      }),
      [
        {
          kind: 'retire',
          instance: 'web-1',
          ...at,
          reason: 'web-1 is unhealthy and max_surge is 0',
        },
      ],
    ],
    [
      'a drifted instance under policy report is only reported',
      view({ services: [service()], instances: [instance('web-1', { drifted: true })] }),
      [],
    ],
    [
      'a drifted instance under policy replace is replaced',
      view({
        services: [service({ drift: 'replace' })],
        instances: [instance('web-1', { drifted: true })],
      }),
      [{ kind: 'replace', instance: 'web-1', ...at, revision: 'r2', reason: 'drift' }],
    ],
    [
      'replacements stop at replicas + surge',
      view({
        services: [service({ replicas: 3, maxSurge: 1 })],
        instances: [
          instance('web-1', { health: 'unhealthy' }),
          instance('web-2', { health: 'unhealthy' }),
          instance('web-3'),
        ],
      }),
      [{ kind: 'replace', instance: 'web-1', ...at, revision: 'r2', reason: 'unhealthy' }],
    ],
    [
      'one too many: the least healthy go first (unhealthy, drifted, unknown, healthy)',
      view({
        services: [service({ replicas: 1 })],
        instances: [
          instance('web-h'),
          instance('web-u', { health: 'unknown' }),
          instance('web-d', { drifted: true }),
          instance('web-x', { health: 'unhealthy' }),
        ],
      }),
      ['web-x', 'web-d', 'web-u'].map((id): Decision => ({
        kind: 'retire',
        instance: id,
        ...at,
        reason: 'web runs more than its 1 replicas',
      })),
    ],
    [
      'one too many while a heal is under way: nothing yet',
      view({
        services: [service({ replicas: 1, healing: 1 })],
        instances: [instance('web-1'), instance('web-2')],
      }),
      [],
    ],
    [
      'another revision (a kept blue-green set) is neither healed, replaced nor retired',
      view({
        services: [service({ replicas: 1, drift: 'replace' })],
        instances: [
          instance('web-1'),
          instance('old-1', { revision: 'r1', health: 'unhealthy' }),
          instance('old-2', { revision: 'r1', drifted: true }),
          instance('old-3', { revision: 'r1' }),
        ],
      }),
      [],
    ],
    [
      'another revision is forgotten when its process is gone, without a start',
      view({
        services: [service({ replicas: 1 })],
        instances: [instance('web-1'), instance('old-1', { revision: 'r1', observed: 'exited' })],
      }),
      [{ kind: 'forget', instance: 'old-1', ...at, reason: 'it exited' }],
    ],
    [
      'instances of an undeclared service are left alone',
      view({ instances: [instance('web-1', { observed: 'exited', health: 'unhealthy' })] }),
      [],
    ],
    [
      'an orphan younger than the grace is left alone, one as old is stopped',
      view({
        orphans: [
          { id: 'web-young', ...at, firstSeen: NOW - S.orphanGraceMs + 1 },
          { id: 'web-old', ...at, firstSeen: NOW - S.orphanGraceMs },
        ],
      }),
      [{ kind: 'stop-orphan', instance: 'web-old', ...at }],
    ],
  ];

  it.each(cases)('%s', (_name, input, expected) => {
    expect(decide(input)).toStrictEqual(expected);
  });

  // Fails today. Once a replacement has started (healing back to 0) the replaced
  // instance still runs while it drains, so the service looks one too many; the
  // replaced one is on its way out, and retiring another leaves the service
  // below its replicas once the drain ends. decide ranks the two as equals
  // (both healthy) and retires the first in the list, here web-new.
  it('does not retire a second instance while a replaced one still drains', () => {
    const decisions = decide(
      view({
        services: [service({ replicas: 1, healing: 0 })],
        instances: [instance('web-new'), instance('web-old', { replacing: true })],
      }),
    );
    expect(decisions.filter((d) => 'instance' in d && d.instance === 'web-new')).toEqual([]);
  });
});

describe('backoff', () => {
  const base = S.backoffBaseMs;
  const cases: [name: string, failures: number[], allowedAt: number][] = [
    ['no failure: at once', [], NOW],
    ['the first failure: at once', [NOW - 10], NOW],
    ['the second: base after the latest', [NOW - 500, NOW - 10], NOW - 10 + base],
    ['the third: twice base', [NOW - 900, NOW - 500, NOW - 10], NOW - 10 + 2 * base],
    ['the fourth: four times base', [NOW - 4, NOW - 3, NOW - 2, NOW - 1], NOW - 1 + 4 * base],
    ['capped at the maximum', Array.from({ length: 12 }, (_, i) => NOW - 12 + i), NOW - 1 + 30_000],
    [
      'failures outside the window do not count',
      [NOW - S.failureWindowMs, NOW - S.failureWindowMs + 1],
      NOW,
    ],
  ];

  it.each(cases)('healAllowedAt: %s', (_name, failures, allowedAt) => {
    expect(healAllowedAt(failures, NOW, S)).toBe(allowedAt);
  });

  it('recentFailures keeps those strictly within the window', () => {
    const w = S.failureWindowMs;
    expect(recentFailures([NOW - w - 1, NOW - w, NOW - w + 1, NOW], NOW, S)).toEqual([
      NOW - w + 1,
      NOW,
    ]);
  });

  it('a heal that is not due yet is a wait until then', () => {
    const failures = [NOW - 2000, NOW - 500];
    expect(
      decide(
        view({
          services: [service({ failures })],
          instances: [instance('web-1', { observed: 'exited' })],
        }),
      ),
    ).toStrictEqual([
      { kind: 'forget', instance: 'web-1', ...at, reason: 'it exited' },
      { kind: 'wait', ...at, until: NOW - 500 + base },
    ]);
  });

  it('so is the replacement of an unhealthy instance', () => {
    expect(
      decide(
        view({
          services: [service({ failures: [NOW - 2000, NOW - 500] })],
          instances: [instance('web-1', { health: 'unhealthy' })],
        }),
      ),
    ).toStrictEqual([{ kind: 'wait', ...at, until: NOW - 500 + base }]);
  });

  it('a heal that is due (its backoff ends now) starts', () => {
    expect(
      decide(view({ services: [service({ replicas: 1, failures: [NOW - 5000, NOW - 1000] })] })),
    ).toStrictEqual([start(1, 'web runs 0 of 1 replicas')]);
  });
});

describe('crash loops', () => {
  // Five crashes within the window, the latest long enough ago that a heal is due.
  const crashes = [NOW - 50_000, NOW - 40_000, NOW - 30_000, NOW - 20_000, NOW - 10_000];
  const exited = [instance('web-1', { observed: 'exited' })];
  const forget: Decision = { kind: 'forget', instance: 'web-1', ...at, reason: 'it exited' };

  it('with a revision to go back to: crash-loop with rollbackTo, and no start', () => {
    expect(
      decide(
        view({
          services: [service({ failures: crashes, crashes, previousRevision: 'r1' })],
          instances: exited,
        }),
      ),
    ).toStrictEqual([
      forget,
      { kind: 'crash-loop', ...at, revision: 'r2', failures: 5, rollbackTo: 'r1' },
    ]);
  });

  it('without one: crash-loop without rollbackTo, and healing continues', () => {
    expect(
      decide(view({ services: [service({ failures: crashes, crashes })], instances: exited })),
    ).toStrictEqual([
      forget,
      { kind: 'crash-loop', ...at, revision: 'r2', failures: 5 },
      start(1, '1 instance of web stopped running'),
    ]);
  });

  it('a revision already marked failed is not reported again', () => {
    expect(
      decide(
        view({
          services: [service({ failures: crashes, crashes, failed: true, previousRevision: 'r1' })],
          instances: exited,
        }),
      ),
    ).toStrictEqual([forget, start(1, '1 instance of web stopped running')]);
  });

  it('crashes outside the window do not count', () => {
    const old = crashes.map((t) => t - 10_000); // the oldest is exactly one window ago
    expect(
      decide(view({ services: [service({ crashes: old, previousRevision: 'r1' })] })),
    ).toStrictEqual([start(1, 'web runs 0 of 1 replicas')]);
  });

  it('fewer crashes than the threshold are only backoff', () => {
    expect(
      decide(view({ services: [service({ crashes: crashes.slice(1), previousRevision: 'r1' })] })),
    ).toStrictEqual([start(1, 'web runs 0 of 1 replicas')]);
  });
});

describe('decide: properties', () => {
  const stacks = ['shop', 'blog'] as const;
  const names = ['web', 'api', 'db'] as const;
  const times = (now: number): fc.Arbitrary<number[]> =>
    fc
      .array(fc.integer({ min: 0, max: 150_000 }), { maxLength: 8 })
      .map((ages) => ages.map((a) => now - a).sort((a, b) => a - b));

  const settings: fc.Arbitrary<ReconcileSettings> = fc.record({
    orphanGraceMs: fc.integer({ min: 0, max: 20_000 }),
    failureWindowMs: fc.integer({ min: 1, max: 120_000 }),
    crashLoopFailures: fc.integer({ min: 1, max: 6 }),
    backoffBaseMs: fc.integer({ min: 0, max: 5000 }),
    backoffMaxMs: fc.integer({ min: 0, max: 60_000 }),
  });

  const views: fc.Arbitrary<ReconcileView> = fc
    .record({ now: fc.integer({ min: 1e12, max: 2e12 }), settings })
    .chain(({ now, settings }) =>
      fc.record({
        now: fc.constant(now),
        settings: fc.constant(settings),
        services: fc.uniqueArray(
          fc.record({
            stack: fc.constantFrom(...stacks),
            service: fc.constantFrom(...names),
            revision: fc.constantFrom('r1', 'r2'),
            replicas: fc.integer({ min: 0, max: 4 }),
            maxSurge: fc.integer({ min: 0, max: 2 }),
            drift: fc.constantFrom('report', 'replace'),
            busy: fc.boolean(),
            failures: times(now),
            crashes: times(now),
            healing: fc.integer({ min: 0, max: 3 }),
            failed: fc.boolean(),
            previousRevision: fc.option(fc.constantFrom('r0', 'r1'), { nil: undefined }),
          }),
          { selector: (s) => `${s.stack}/${s.service}`, maxLength: 4 },
        ),
        instances: fc
          .array(
            fc.record({
              stack: fc.constantFrom(...stacks),
              service: fc.constantFrom(...names),
              revision: fc.constantFrom('r1', 'r2', 'r3'),
              state: fc.constantFrom('starting', 'running', 'running', 'stopping'),
              observed: fc.constantFrom('running', 'running', 'exited', 'missing'),
              health: fc.constantFrom('unknown', 'starting', 'healthy', 'unhealthy'),
              drifted: fc.boolean(),
              replacing: fc.boolean(),
            }),
            { maxLength: 12 },
          )
          .map((list) => list.map((i, n) => ({ ...i, id: `${i.service}-${n}` }))),
        orphans: fc
          .array(
            fc.record({
              stack: fc.constantFrom(...stacks),
              service: fc.constantFrom(...names),
              firstSeen: fc.integer({ min: now - 30_000, max: now }),
            }),
            { maxLength: 3 },
          )
          .map((list) => list.map((o, n) => ({ ...o, id: `orphan-${n}` }))),
      }),
    );

  const run = (check: (view: ReconcileView, decisions: Decision[]) => void): void =>
    fc.assert(
      fc.property(views, (v) => check(v, decide(v))),
      { numRuns: 300 },
    );
  const key = (x: { stack: string; service: string }): string => `${x.stack}/${x.service}`;
  const onInstance = (
    d: Decision,
  ): d is Extract<Decision, { kind: 'forget' | 'replace' | 'retire' }> =>
    d.kind === 'forget' || d.kind === 'replace' || d.kind === 'retire';

  it('never throws and is deterministic', () => {
    run((v, decisions) => {
      expect(decide(structuredClone(v))).toStrictEqual(decisions);
    });
  });

  it('never takes a revision above replicas + surge unless it already was', () => {
    run((v, decisions) => {
      for (const s of v.services.filter((x) => !x.busy)) {
        const live = v.instances.filter(
          (i) =>
            key(i) === key(s) &&
            i.revision === s.revision &&
            i.state === 'running' &&
            i.observed === 'running',
        ).length;
        const mine = decisions.filter((d) => key(d) === key(s));
        const added =
          mine.reduce((n, d) => n + (d.kind === 'start' ? d.count : 0), 0) +
          mine.filter((d) => d.kind === 'replace').length;
        expect(live + s.healing + added).toBeLessThanOrEqual(
          Math.max(s.replicas + s.maxSurge, live + s.healing),
        );
      }
    });
  });

  // Orphans are left out on purpose: stop-orphan is judged by age alone (see the report).
  it('no decision about a service concerns a busy one', () => {
    run((v, decisions) => {
      const busy = new Set(v.services.filter((s) => s.busy).map(key));
      for (const d of decisions.filter((x) => x.kind !== 'stop-orphan'))
        expect(busy.has(key(d))).toBe(false);
    });
  });

  it('forget, replace and retire name an instance of the service they say, in the right state', () => {
    run((v, decisions) => {
      const byId = new Map(v.instances.map((i) => [i.id, i]));
      for (const d of decisions.filter(onInstance)) {
        const target = byId.get(d.instance);
        expect(target).toBeDefined();
        expect(key(target as InstanceView)).toBe(key(d));
        if (d.kind !== 'forget') expect(target?.state).toBe('running');
        if (d.kind === 'replace') expect(target?.replacing).toBe(false);
      }
    });
  });

  it('names no instance twice in one pass', () => {
    run((_v, decisions) => {
      const ids = decisions.filter(onInstance).map((d) => d.instance);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  it('never starts before the backoff allows it', () => {
    run((v, decisions) => {
      for (const d of decisions) {
        if (d.kind !== 'start') continue;
        const s = v.services.find((x) => key(x) === key(d)) as ServiceView;
        expect(healAllowedAt(s.failures, v.now, v.settings)).toBeLessThanOrEqual(v.now);
        expect(d.count).toBeGreaterThan(0);
      }
    });
  });
});
