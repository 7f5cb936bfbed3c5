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
 * Finds where a value came from in a parsed tree (a Node is an Expr without
 * calls). A path that runs into a function call stops there: the call
 * produced the value, so the call is what to fix. `rootKeyLoc` finds the key
 * that names the root (e.g. `properties:`), for "missing key" messages.
 */
export function treeLocator(root: Expr, rootKeyLoc?: () => Loc): Locator {
  return new TreeLocator(root, rootKeyLoc);
}

/** One object per checked value (a class, not closures): nearly all are never asked anything. */
class TreeLocator implements Locator {
  constructor(
    private readonly root: Expr,
    private readonly rootKeyLoc?: () => Loc,
  ) {}

  valueLoc(path: Path): { loc: Loc; exact: boolean; via?: string } {
    const { expr, exact } = this.walk(path);
    return { loc: expr.loc, exact, via: describeCall(expr) };
  }

  keyLoc(path: Path, key: string): Loc | undefined {
    const { expr, exact } = this.walk(path);
    return exact && expr.kind === 'map'
      ? expr.entries.find((e) => e.key === key)?.keyLoc
      : undefined;
  }

  ownerLoc(path: Path): Loc {
    const last = path.at(-1);
    if (path.length === 0) return this.rootKeyLoc?.() ?? this.root.loc;
    return (
      (typeof last === 'string' ? this.keyLoc(path.slice(0, -1), last) : undefined) ??
      this.walk(path).expr.loc
    );
  }

  private walk(path: Path): { expr: Expr; exact: boolean } {
    let expr = this.root;
    for (const part of path) {
      let next: Expr | undefined;
      if (expr.kind === 'map') next = expr.entries.find((e) => e.key === String(part))?.value;
      else if (expr.kind === 'seq' && typeof part === 'number') next = expr.items[part];
      if (next === undefined) return { expr, exact: false };
      expr = next;
    }
    return { expr, exact: true };
  }
}
