/**
 * A stack as a picture: one node per resource, one edge per dependency.
 * Pure: the engine (recorded resources and live instances) and the CLI (a
 * compiled template) feed it; the renderers and the dashboard draw it.
 */

/** How a service is doing, from its instances; other resources have none. */
export type HealthState = 'healthy' | 'unhealthy' | 'starting' | 'deploying';

/** One resource as recorded or compiled. */
export interface GraphResource {
  readonly name: string;
  readonly type: string;
  readonly revision: string;
  /** What it depends on (references and `depends_on`); unknown names are ignored. */
  readonly dependsOn: readonly string[];
}

/** One instance of a service, as far as its health goes. */
export interface InstanceFacts {
  readonly revision: string;
  readonly state: string;
  readonly health: string;
}

/** What runs for one service now. */
export interface ServiceFacts {
  readonly desired: number;
  readonly instances: readonly InstanceFacts[];
  /** The deployment under way, if any. */
  readonly deployment?: { readonly strategy: string; readonly phase: string; readonly to: string };
}

export interface NodeHealth {
  readonly state: HealthState;
  readonly desired: number;
  /** Running instances of the node's revision. */
  readonly running: number;
  /** Of those, the healthy ones. */
  readonly healthy: number;
  readonly deployment?: ServiceFacts['deployment'];
}

export interface GraphNode {
  readonly name: string;
  readonly type: string;
  readonly revision: string;
  /** The longest chain of dependencies under it: 0 for a resource that depends on nothing. */
  readonly depth: number;
  /** Present for services the facts describe. */
  readonly health?: NodeHealth;
}

/** `from` is needed by `to`: edges point the way an apply goes. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
}

export interface StackGraph {
  readonly stack: string;
  /** By depth, then in the order given (templates give dependencies first). */
  readonly nodes: readonly GraphNode[];
  /** Grouped by dependent, in node order. */
  readonly edges: readonly GraphEdge[];
}

/**
 * The graph of a stack. `facts` (by service name) adds live health; without
 * it (a template not applied yet) nodes carry none.
 */
export function buildGraph(
  stack: string,
  resources: readonly GraphResource[],
  facts: ReadonlyMap<string, ServiceFacts> = new Map(),
): StackGraph {
  const known = new Set(resources.map((r) => r.name));
  const deps = new Map(
    resources.map((r) => [
      r.name,
      [...new Set(r.dependsOn)].filter((d) => d !== r.name && known.has(d)),
    ]),
  );
  const depth = depths(resources, deps);
  const order = new Map(resources.map((r, i) => [r.name, i]));
  const nodes = resources
    .map((r): GraphNode => {
      const service = facts.get(r.name);
      return {
        name: r.name,
        type: r.type,
        revision: r.revision,
        depth: depth.get(r.name) ?? 0,
        ...(service === undefined ? {} : { health: nodeHealth(r.revision, service) }),
      };
    })
    .sort((a, b) => a.depth - b.depth || (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  const edges = nodes.flatMap((n) =>
    (deps.get(n.name) ?? []).map((from) => ({ from, to: n.name })),
  );
  return { stack, nodes, edges };
}

/**
 * Longest dependency chains, in topological order (Kahn), so that deep
 * stacks need no recursion. A cycle cannot come from a valid template; its
 * members would keep depth 0.
 */
function depths(
  resources: readonly GraphResource[],
  deps: ReadonlyMap<string, readonly string[]>,
): Map<string, number> {
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const r of resources) {
    const mine = deps.get(r.name) ?? [];
    waiting.set(r.name, mine.length);
    for (const d of mine) {
      const list = dependents.get(d);
      if (list === undefined) dependents.set(d, [r.name]);
      else list.push(r.name);
    }
  }
  const depth = new Map<string, number>();
  const ready = resources.filter((r) => waiting.get(r.name) === 0).map((r) => r.name);
  for (let i = 0; i < ready.length; i++) {
    const name = ready[i] as string;
    const mine = Math.max(-1, ...(deps.get(name) ?? []).map((d) => depth.get(d) ?? 0)) + 1;
    depth.set(name, mine);
    for (const next of dependents.get(name) ?? []) {
      const left = (waiting.get(next) ?? 1) - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  return depth;
}

/**
 * A deployment under way wins; then any unhealthy instance of the current
 * revision; then enough healthy ones; then some still on their way up; and
 * short of healthy instances with none coming, unhealthy.
 */
export function nodeHealth(revision: string, facts: ServiceFacts): NodeHealth {
  const mine = facts.instances.filter((i) => i.revision === revision);
  const running = mine.filter((i) => i.state === 'running');
  const healthy = running.filter((i) => i.health === 'healthy').length;
  const counts = { desired: facts.desired, running: running.length, healthy };
  const state: HealthState =
    facts.deployment !== undefined
      ? 'deploying'
      : mine.some((i) => i.health === 'unhealthy')
        ? 'unhealthy'
        : healthy >= facts.desired
          ? 'healthy'
          : mine.some((i) => i.state === 'starting' || ['starting', 'unknown'].includes(i.health))
            ? 'starting'
            : 'unhealthy';
  return {
    state,
    ...counts,
    ...(facts.deployment === undefined ? {} : { deployment: facts.deployment }),
  };
}
