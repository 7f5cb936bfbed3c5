import type { Loc } from './errors.js';
import type { Scalar } from './source.js';

/**
 * A template value after its intrinsic functions were checked: what
 * resolution evaluates. `bad` marks a value whose problem was already
 * reported, so that nothing reports it twice.
 */
export type Expr = LitExpr | MapExpr | SeqExpr | CondRefExpr | CallExpr | BadExpr;

/** A scalar written in the template (the parsed node itself). */
export interface LitExpr {
  readonly kind: 'scalar';
  readonly loc: Loc;
  readonly value: Scalar;
}

export interface MapExpr {
  readonly kind: 'map';
  readonly loc: Loc;
  readonly entries: readonly { key: string; keyLoc: Loc; value: Expr }[];
  /** Set when compile rebuilt the map because something in it is not literal. */
  readonly compiled?: true;
}

export interface SeqExpr {
  readonly kind: 'seq';
  readonly loc: Loc;
  readonly items: readonly Expr[];
  /** Set when compile rebuilt the list because something in it is not literal. */
  readonly compiled?: true;
}

/** A condition named where a condition is expected. */
export interface CondRefExpr {
  readonly kind: 'cond';
  readonly loc: Loc;
  readonly name: string;
}

export interface BadExpr {
  readonly kind: 'bad';
  readonly loc: Loc;
}

export type CallArgs =
  | { readonly fn: 'get_param'; readonly name: string; readonly keys: readonly Expr[] }
  | { readonly fn: 'get_resource'; readonly name: string }
  | {
      readonly fn: 'get_attr';
      readonly name: string;
      readonly attribute: string;
      readonly keys: readonly Expr[];
    }
  | { readonly fn: 'list_join'; readonly separator: Expr; readonly lists: readonly Expr[] }
  | { readonly fn: 'str_replace'; readonly template: Expr; readonly params: Expr }
  | { readonly fn: 'if'; readonly condition: Expr; readonly then: Expr; readonly else: Expr }
  | { readonly fn: 'equals'; readonly left: Expr; readonly right: Expr }
  | { readonly fn: 'and' | 'or'; readonly items: readonly Expr[] }
  | { readonly fn: 'not'; readonly item: Expr }
  | { readonly fn: 'find_in_map'; readonly map: Expr; readonly key1: Expr; readonly key2: Expr }
  | { readonly fn: 'get_file'; readonly path: string; readonly content: string };

export type CallExpr = { readonly kind: 'call'; readonly loc: Loc } & CallArgs;

/**
 * Subtrees without any function call are the parsed nodes themselves: most
 * of a template is literal, and copying it at every stage is what made large
 * stacks slow. Only collections with something else inside are rebuilt, and
 * those say so (`compiled`), which keeps this test free of any lookup.
 */
export function isLiteral(expr: Expr): boolean {
  if (expr.kind === 'scalar') return true;
  return (expr.kind === 'map' || expr.kind === 'seq') && expr.compiled !== true;
}

/** Every resource a value refers to (both branches of an `if` included). */
export function resourceRefs(expr: Expr, out: { name: string; loc: Loc }[] = []): typeof out {
  // A literal subtree has no calls: nothing to look for in it.
  if (isLiteral(expr)) return out;
  switch (expr.kind) {
    case 'map':
      for (const e of expr.entries) resourceRefs(e.value, out);
      break;
    case 'seq':
      for (const item of expr.items) resourceRefs(item, out);
      break;
    case 'call':
      // The call itself is the reference: it has the name, and its position stays lazy.
      if (expr.fn === 'get_resource' || expr.fn === 'get_attr') out.push(expr);
      for (const child of callChildren(expr)) resourceRefs(child, out);
      break;
    default:
      break;
  }
  return out;
}

/** Every condition named inside a value. */
export function conditionRefs(expr: Expr, out: { name: string; loc: Loc }[] = []): typeof out {
  if (isLiteral(expr)) return out;
  if (expr.kind === 'cond') out.push(expr);
  if (expr.kind === 'map') for (const e of expr.entries) conditionRefs(e.value, out);
  if (expr.kind === 'seq') for (const item of expr.items) conditionRefs(item, out);
  if (expr.kind === 'call') for (const child of callChildren(expr)) conditionRefs(child, out);
  return out;
}

export function callChildren(call: CallExpr): readonly Expr[] {
  switch (call.fn) {
    case 'get_param':
    case 'get_attr':
      return call.keys;
    case 'list_join':
      return [call.separator, ...call.lists];
    case 'str_replace':
      return [call.template, call.params];
    case 'if':
      return [call.condition, call.then, call.else];
    case 'equals':
      return [call.left, call.right];
    case 'and':
    case 'or':
      return call.items;
    case 'not':
      return [call.item];
    case 'find_in_map':
      return [call.map, call.key1, call.key2];
    default:
      return [];
  }
}
