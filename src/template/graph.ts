import type { Loc } from './errors.js';

export interface Edge {
  readonly name: string;
  readonly loc: Loc;
}

export interface Cycle {
  /** The circle as names, first name repeated at the end: a → b → a. */
  readonly names: readonly string[];
  /** Every node of the strongly connected component. */
  readonly members: ReadonlySet<string>;
  /** Where the first reference of the circle is written. */
  readonly loc: Loc;
}

/**
 * One cycle per strongly connected component (Tarjan), named from the first
 * member in declaration order, so the report is stable and points at a
 * reference the user can break.
 */
export function findCycles(
  nodes: readonly string[],
  edges: ReadonlyMap<string, readonly Edge[]>,
): Cycle[] {
  const order = new Map(nodes.map((n, i) => [n, i]));
  // The walk runs on declaration indices: it looks at every edge several
  // times, and arrays indexed by number are far cheaper than maps by name.
  const targets = nodes.map((node) => {
    const out: number[] = [];
    for (const edge of edges.get(node) ?? []) {
      const target = order.get(edge.name);
      if (target !== undefined) out.push(target);
    }
    return out;
  });
  const index: number[] = new Array<number>(nodes.length).fill(-1);
  const low: number[] = new Array<number>(nodes.length).fill(0);
  const onStack: boolean[] = new Array<boolean>(nodes.length).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  const enter = (node: number): void => {
    index[node] = counter;
    low[node] = counter++;
    stack.push(node);
    onStack[node] = true;
  };

  // Iterative Tarjan: deep graphs (10,000 resources in a chain) must not overflow the call stack.
  for (let start = 0; start < nodes.length; start++) {
    if (index[start] !== -1) continue;
    const work = [{ node: start, next: 0 }];
    enter(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: number; next: number };
      const out = targets[frame.node] ?? [];
      if (frame.next < out.length) {
        const target = out[frame.next++] as number;
        if (index[target] === -1) {
          enter(target);
          work.push({ node: target, next: 0 });
        } else if (onStack[target]) {
          low[frame.node] = Math.min(low[frame.node] ?? 0, index[target] ?? 0);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent.node] = Math.min(low[parent.node] ?? 0, low[frame.node] ?? 0);
      if (low[frame.node] === index[frame.node]) {
        const component: number[] = [];
        let member: number | undefined;
        do {
          member = stack.pop();
          if (member === undefined) break;
          onStack[member] = false;
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1) components.push(component);
      }
    }
  }

  return components
    .map((component) => {
      const members = new Set(component.map((i) => nodes[i] as string));
      const first = nodes[component.reduce((a, b) => Math.min(a, b))] as string;
      const path = cyclePath(first, members, edges);
      return { names: path.names, members, loc: path.loc };
    })
    .sort((a, b) => (order.get(a.names[0] ?? '') ?? 0) - (order.get(b.names[0] ?? '') ?? 0));
}

/** A shortest way around from `first` back to itself inside the component (BFS). */
function cyclePath(
  first: string,
  members: ReadonlySet<string>,
  edges: ReadonlyMap<string, readonly Edge[]>,
): { names: string[]; loc: Loc } {
  const previous = new Map<string, { from: string; edge: Edge }>();
  const queue = [first];
  let firstEdge: Edge | undefined;
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const edge of edges.get(node) ?? []) {
      if (!members.has(edge.name)) continue;
      if (edge.name === first) {
        const names = [first];
        let at = node;
        while (at !== first) {
          names.splice(1, 0, at);
          at = previous.get(at)?.from ?? first;
        }
        firstEdge = names.length > 1 ? (previous.get(names[1] as string)?.edge ?? edge) : edge;
        return { names: [...names, first], loc: firstEdge.loc };
      }
      if (!previous.has(edge.name) && edge.name !== first) {
        previous.set(edge.name, { from: node, edge });
        queue.push(edge.name);
      }
    }
  }
  throw new Error(`internal: no cycle through ${first} in its component`);
}

/**
 * Dependency order (dependencies first), otherwise declaration order; nodes
 * on cycles are left out (they were reported). An iterative depth-first walk:
 * linear, and no call stack to overflow on a chain of 10,000 resources.
 */
export function topologicalOrder(
  nodes: readonly string[],
  dependsOn: ReadonlyMap<string, readonly string[]>,
): string[] {
  const known = new Set(nodes);
  const done = new Set<string>();
  const out: string[] = [];
  for (const start of nodes) {
    if (done.has(start)) continue;
    const stack: { node: string; deps: readonly string[]; next: number }[] = [
      { node: start, deps: dependsOn.get(start) ?? [], next: 0 },
    ];
    const onPath = new Set([start]);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as {
        node: string;
        deps: readonly string[];
        next: number;
      };
      if (frame.next < frame.deps.length) {
        const dep = frame.deps[frame.next++] as string;
        if (known.has(dep) && !done.has(dep) && !onPath.has(dep)) {
          onPath.add(dep);
          stack.push({ node: dep, deps: dependsOn.get(dep) ?? [], next: 0 });
        }
        continue;
      }
      stack.pop();
      onPath.delete(frame.node);
      done.add(frame.node);
      out.push(frame.node);
    }
  }
  return out;
}
