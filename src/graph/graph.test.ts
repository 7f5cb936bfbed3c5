import { describe, expect, it } from 'vitest';

import type { GraphResource, InstanceFacts, ServiceFacts } from './graph.js';
import { buildGraph, nodeHealth } from './graph.js';

const rev = (c: string): string => c.repeat(64);

/** The test web app: an artifact, a service on it, a route to the service, a secret it mounts. */
const webapp: GraphResource[] = [
  { name: 'app', type: 'Drover::Artifact', revision: rev('a'), dependsOn: [] },
  { name: 'key', type: 'Drover::Secret', revision: rev('b'), dependsOn: [] },
  { name: 'web', type: 'Drover::Service', revision: rev('c'), dependsOn: ['app', 'key'] },
  { name: 'route', type: 'Drover::Route', revision: rev('d'), dependsOn: ['web'] },
];

const up = (revision: string, health = 'healthy', state = 'running'): InstanceFacts => ({
  revision,
  state,
  health,
});

describe('buildGraph', () => {
  it('has one node per resource, layered by dependency depth, and one edge per dependency', () => {
    const graph = buildGraph('shop', webapp);
    expect(graph.stack).toBe('shop');
    expect(graph.nodes.map((n) => [n.name, n.depth])).toEqual([
      ['app', 0],
      ['key', 0],
      ['web', 1],
      ['route', 2],
    ]);
    expect(graph.edges).toEqual([
      { from: 'app', to: 'web' },
      { from: 'key', to: 'web' },
      { from: 'web', to: 'route' },
    ]);
    expect(graph.nodes.every((n) => n.health === undefined)).toBe(true);
  });

  it('takes the longest chain as the depth, whatever order the resources come in', () => {
    const graph = buildGraph('s', [
      { name: 'top', type: 'T', revision: 'r', dependsOn: ['mid', 'base'] },
      { name: 'mid', type: 'T', revision: 'r', dependsOn: ['base'] },
      { name: 'base', type: 'T', revision: 'r', dependsOn: [] },
    ]);
    expect(graph.nodes.map((n) => `${n.name}@${n.depth}`)).toEqual(['base@0', 'mid@1', 'top@2']);
  });

  it('ignores unknown, repeated and self dependencies', () => {
    const graph = buildGraph('s', [
      { name: 'a', type: 'T', revision: 'r', dependsOn: [] },
      { name: 'b', type: 'T', revision: 'r', dependsOn: ['a', 'a', 'b', 'gone'] },
    ]);
    expect(graph.edges).toEqual([{ from: 'a', to: 'b' }]);
    expect(graph.nodes.map((n) => n.depth)).toEqual([0, 1]);
  });

  it('handles a chain of 10,000 resources without recursion', () => {
    const chain = Array.from({ length: 10_000 }, (_, i) => ({
      name: `r${i}`,
      type: 'T',
      revision: 'r',
      dependsOn: i === 0 ? [] : [`r${i - 1}`],
    }));
    const graph = buildGraph('deep', chain.reverse());
    expect(graph.nodes.at(-1)).toMatchObject({ name: 'r9999', depth: 9999 });
    expect(graph.edges).toHaveLength(9999);
  });

  it('puts live health on the services the facts describe', () => {
    const facts = new Map<string, ServiceFacts>([
      ['web', { desired: 2, instances: [up(rev('c')), up(rev('c'))] }],
    ]);
    const graph = buildGraph('shop', webapp, facts);
    expect(graph.nodes.find((n) => n.name === 'web')?.health).toEqual({
      state: 'healthy',
      desired: 2,
      running: 2,
      healthy: 2,
    });
    expect(graph.nodes.find((n) => n.name === 'app')?.health).toBeUndefined();
  });
});

describe('nodeHealth', () => {
  const current = rev('c');
  const cases: [string, ServiceFacts, string][] = [
    ['all healthy', { desired: 2, instances: [up(current), up(current)] }, 'healthy'],
    [
      'a deployment under way',
      {
        desired: 2,
        instances: [up(current), up(current)],
        deployment: { strategy: 'canary', phase: 'step 1: 20%', to: rev('e') },
      },
      'deploying',
    ],
    [
      'one unhealthy',
      { desired: 2, instances: [up(current), up(current, 'unhealthy')] },
      'unhealthy',
    ],
    [
      'one on its way up',
      { desired: 2, instances: [up(current), up(current, 'starting', 'starting')] },
      'starting',
    ],
    ['one missing, none coming', { desired: 2, instances: [up(current)] }, 'unhealthy'],
    ['only instances of another revision', { desired: 1, instances: [up(rev('e'))] }, 'unhealthy'],
    ['scaled to zero', { desired: 0, instances: [] }, 'healthy'],
  ];
  it.each(cases)('%s', (_, facts, state) => {
    expect(nodeHealth(current, facts).state).toBe(state);
  });

  it('counts running and healthy instances of its own revision only', () => {
    const health = nodeHealth(current, {
      desired: 3,
      instances: [up(current), up(current, 'unknown'), up(rev('e')), up(current, 'x', 'draining')],
    });
    expect(health).toMatchObject({ desired: 3, running: 2, healthy: 1 });
  });
});
