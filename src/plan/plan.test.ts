import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import type { ResolvedStack } from '../template/index.js';
import { compileStack } from '../template/index.js';
import { removeFixtures, TEST_KEY, writeFixture } from '../template/testing/fixture.js';

import type { Plan, RecordedState } from './index.js';
import { planJson, planStack, recordStack, renderPlan } from './index.js';
import { validStack } from './testing.js';

afterAll(removeFixtures);

const HEADER = 'drover_template_version: 2026-11-21\n';
const dir = writeFixture({
  'app/server.js': 'console.log(1)\n',
  'app2/server.js': 'console.log(2)\n',
});

async function resolveText(
  text: string,
  params: Record<string, string> = {},
): Promise<ResolvedStack> {
  const file = join(dir, 'stack.yaml');
  writeFileSync(file, text);
  const result = await compileStack(file, {
    stack: 'demo',
    mode: 'plan',
    hiddenKey: TEST_KEY,
    home: '/var/lib/drover-test',
    parameters: Object.entries(params).map(([name, value]) => ({
      name,
      value,
      fromText: true,
      source: '-p',
    })),
  });
  if (!result.stack) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return result.stack;
}

const base = `${HEADER}parameters:
  replicas: { type: number, default: 2 }
  version: { type: string, default: "1" }
  token: { type: string, hidden: true, default: abc }
  context: { type: string, default: ./app }
resources:
  build: { type: Drover::Artifact, properties: { context: { get_param: context } } }
  web:
    type: Drover::Service
    properties:
      artifact: { get_resource: build }
      command: [node, server.js]
      replicas: { get_param: replicas }
      env: { VERSION: { get_param: version }, TOKEN: { get_param: token } }
  route:
    type: Drover::Route
    properties: { host: app.localhost, service: { get_resource: web } }
  data: { type: Drover::Volume, deletion_policy: retain }
  cache: { type: Drover::Volume }
`;

function actions(plan: Plan): Record<string, [string, string]> {
  return Object.fromEntries(plan.actions.map((a) => [a.resource, [a.action, a.reason]]));
}

describe('the planner', () => {
  it('creates everything against an empty state, dependencies first', async () => {
    const plan = planStack(await resolveText(base), undefined);
    expect(plan.actions.map((a) => `${a.action} ${a.resource}`)).toEqual([
      'create build',
      'create web',
      'create route',
      'create data',
      'create cache',
    ]);
    expect(plan.summary).toEqual({ create: 5, replace: 0, update: 0, delete: 0, noop: 0 });
  });

  const recorded = async (params: Record<string, string> = {}): Promise<RecordedState> =>
    recordStack(await resolveText(base, params));

  it('does nothing when nothing changed', async () => {
    const plan = planStack(await resolveText(base), await recorded());
    expect(plan.actions.every((a) => a.action === 'noop')).toBe(true);
  });

  it('replaces a service whose env changes, with a field-level diff', async () => {
    const plan = planStack(await resolveText(base, { version: '2' }), await recorded());
    expect(actions(plan)['web']).toEqual(['replace', 'what it runs changed: env']);
    const web = plan.actions.find((a) => a.resource === 'web');
    expect(web?.changes).toEqual([{ path: 'env.VERSION', before: '1', after: '2' }]);
    expect(web?.revision.before).not.toBe(web?.revision.after);
    expect(actions(plan)['route']?.[0]).toBe('noop');
  });

  it('shows a changed hidden value as (hidden) → (hidden), never the value', async () => {
    const plan = planStack(
      await resolveText(base, { token: 'new-secret-value' }),
      await recorded({ token: 'old-secret-value' }),
    );
    expect(actions(plan)['web']?.[0]).toBe('replace');
    const json = JSON.stringify(planJson(plan));
    const text = renderPlan(plan, { color: false });
    expect(json).toContain('"path":"env.TOKEN","before":"(hidden)","after":"(hidden)"');
    expect(text).toContain('env.TOKEN: (hidden) → (hidden)');
    for (const out of [json, text]) {
      expect(out).not.toContain('secret-value');
      expect(out).not.toMatch(/\$hidden/);
    }
  });

  it('scales on a change of replicas alone', async () => {
    const plan = planStack(await resolveText(base, { replicas: '5' }), await recorded());
    expect(actions(plan)['web']).toEqual(['update', 'scale 2 → 5']);
  });

  it('replaces the artifact and the services that run it when its content changes', async () => {
    const plan = planStack(await resolveText(base, { context: './app2' }), await recorded());
    expect(actions(plan)['build']?.[0]).toBe('replace');
    expect(actions(plan)['web']).toEqual([
      'replace',
      'what it runs changed: artifact build has a new revision',
    ]);
  });

  it('updates a route in place', async () => {
    const plan = planStack(
      await resolveText(base.replace('app.localhost', 'www.localhost')),
      await recorded(),
    );
    expect(actions(plan)['route']).toEqual(['update', 'changed: host']);
    expect(plan.actions.find((a) => a.resource === 'route')?.changes).toEqual([
      { path: 'host', before: 'app.localhost', after: 'www.localhost' },
    ]);
  });

  it('updates in place for health and deploy settings', async () => {
    const changed = base.replace(
      '      command: [node, server.js]',
      '      command: [node, server.js]\n      deploy: { strategy: blue-green }',
    );
    const plan = planStack(await resolveText(changed), await recorded());
    expect(actions(plan)['web']).toEqual(['update', 'changed in place: deploy']);
  });

  it('deletes what left the template, last, and keeps retained data', async () => {
    const trimmed = base.replace(/ {2}route:[\s\S]*$/, '');
    const plan = planStack(await resolveText(trimmed), await recorded());
    expect(plan.actions.map((a) => `${a.action} ${a.resource}`)).toEqual([
      'noop build',
      'noop web',
      'delete route',
      'delete data',
      'delete cache',
    ]);
    expect(plan.actions.find((a) => a.resource === 'data')).toMatchObject({
      retain: true,
      reason: 'no longer in the template; deletion_policy retain keeps its data',
    });
    expect(plan.actions.find((a) => a.resource === 'cache')?.retain).toBeUndefined();
  });

  it('deletes dependents before their dependencies', async () => {
    const old = await recorded();
    const plan = planStack(await resolveText(`${HEADER}resources: {}\n`), old);
    const order = plan.actions.map((a) => a.resource);
    expect(order.indexOf('route')).toBeLessThan(order.indexOf('web'));
    expect(order.indexOf('web')).toBeLessThan(order.indexOf('build'));
  });

  it('replaces a resource whose type changed', async () => {
    const plan = planStack(
      await resolveText(
        base.replace(
          'cache: { type: Drover::Volume }',
          'cache: { type: Drover::Config, properties: { content: x } }',
        ),
      ),
      await recorded(),
    );
    expect(actions(plan)['cache']).toEqual(['replace', 'type changed from Drover::Volume']);
  });

  it('renders a readable text plan and a JSON plan with the documented fields', async () => {
    const plan = planStack(
      await resolveText(base, { version: '2', replicas: '3' }),
      await recorded(),
    );
    const text = renderPlan(plan, { color: false });
    expect(text).toContain(
      'Plan for stack demo: 0 to create, 1 to replace, 0 to update, 0 to delete, 4 unchanged.',
    );
    expect(text).toMatch(/± replace +web +Drover::Service +what it runs changed: env/);
    expect(text).toContain('env.VERSION: "1" → "2"');
    expect(text).toContain('replicas: 2 → 3');
    expect(text).not.toContain('\u001b[');
    expect(renderPlan(plan, { color: true })).toContain('\u001b[');
    const json = planJson(plan) as { actions: Record<string, unknown>[] };
    for (const a of json.actions)
      expect(Object.keys(a)).toEqual(
        expect.arrayContaining(['resource', 'type', 'action', 'reason', 'changes']),
      );
  });
});

describe('planner properties', () => {
  it('(b) the plan of a template against the state recorded from it is all noop', async () => {
    await fc.assert(
      fc.asyncProperty(validStack, async (text) => {
        const first = await resolveText(text);
        const second = await resolveText(text);
        const plan = planStack(second, recordStack(first));
        expect(plan.actions.filter((a) => a.action !== 'noop')).toEqual([]);
        expect(plan.summary.noop).toBe(first.resources.length);
      }),
      { numRuns: 60 },
    );
  });

  it('(c) plans are deterministic', async () => {
    await fc.assert(
      fc.asyncProperty(validStack, validStack, async (a, b) => {
        const recorded = recordStack(await resolveText(a));
        const once = planStack(await resolveText(b), recorded);
        const twice = planStack(
          await resolveText(b),
          JSON.parse(JSON.stringify(recorded)) as RecordedState,
        );
        expect(planJson(twice)).toEqual(planJson(once));
        expect(renderPlan(twice, { color: false })).toBe(renderPlan(once, { color: false }));
      }),
      { numRuns: 60 },
    );
  });

  it('every resource gets exactly one action', async () => {
    await fc.assert(
      fc.asyncProperty(validStack, validStack, async (a, b) => {
        const old = recordStack(await resolveText(a));
        const desired = await resolveText(b);
        const plan = planStack(desired, old);
        const names = plan.actions.map((x) => x.resource);
        expect(new Set(names).size).toBe(names.length);
        expect(new Set(names)).toEqual(
          new Set([...desired.resources.map((r) => r.name), ...Object.keys(old.resources)]),
        );
      }),
      { numRuns: 40 },
    );
  });
});
