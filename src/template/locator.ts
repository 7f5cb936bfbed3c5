import type { Loc } from './errors.js';
import type { Expr } from './expr.js';
import type { Path } from './values.js';
import type { Locator } from './zod-issues.js';

/** How a function call is named in messages: "get_param replicas". */
export function describeCall(expr: Expr): string | undefined {
  if (expr.kind !== 'call') return undefined;
  switch (expr.fn) {
    case 'get_param':
    case 'get_resource':
      return `${expr.fn} ${expr.name}`;
    case 'get_attr':
      return `get_attr ${expr.name}.${expr.attribute}`;
    default:
      return expr.fn;
  }
}

/**
 * Finds where a resolved value came from. A path that runs into a function
 * call stops there: the call produced the value, so the call is what to fix.
 */
export function exprLocator(root: Expr, rootKeyLoc?: Loc): Locator {
  const walk = (path: Path): { expr: Expr; exact: boolean } => {
    let expr = root;
    for (const part of path) {
      let next: Expr | undefined;
      if (expr.kind === 'map') next = expr.entries.find((e) => e.key === String(part))?.value;
      else if (expr.kind === 'seq' && typeof part === 'number') next = expr.items[part];
      if (next === undefined) return { expr, exact: false };
      expr = next;
    }
    return { expr, exact: true };
  };
  return {
    valueLoc: (path) => {
      const { expr, exact } = walk(path);
      return { loc: expr.loc, exact, via: describeCall(expr) };
    },
    keyLoc: (path, key) => {
      const { expr } = walk(path);
      return expr.kind === 'map' ? expr.entries.find((e) => e.key === key)?.keyLoc : undefined;
    },
    ownerLoc: (path) => ownerLoc(path, walk, rootKeyLoc),
  };
}

/** The key naming the value at `path`; for an item of a list, the item itself. */
export function ownerLoc<T extends { kind: string; loc: Loc }>(
  path: Path,
  walk: (path: Path) => { expr: T } | { node: T },
  rootKeyLoc: Loc | undefined,
): Loc {
  const at = (p: Path): T => {
    const found = walk(p);
    return 'expr' in found ? found.expr : found.node;
  };
  if (path.length === 0) return rootKeyLoc ?? at([]).loc;
  const last = path.at(-1);
  const parent = at(path.slice(0, -1)) as unknown as {
    kind: string;
    entries?: { key: string; keyLoc: Loc }[];
  };
  if (typeof last === 'string' && parent.kind === 'map') {
    const entry = parent.entries?.find((e) => e.key === last);
    if (entry) return entry.keyLoc;
  }
  return at(path).loc;
}
