import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

import type { Diagnostics, Loc } from './errors.js';
import type { CallArgs, CallExpr, CondRefExpr, Expr, MapExpr, SeqExpr } from './expr.js';
import { functionNames, unknownFunctionHint } from './function-names.js';
import type { MapEntry, MapNode, Node } from './source.js';
import { describeNode, MAX_TEMPLATE_BYTES } from './source.js';
import { didYouMean, listOf } from './suggest.js';

/** What a value may refer to, as declared in its template. */
export interface CompileScope {
  readonly diagnostics: Diagnostics;
  /** The template's directory: get_file stays inside it. */
  readonly dir: string;
  readonly parameters: ReadonlySet<string>;
  /** Resource name → attribute names (undefined when the type is unknown). */
  readonly resources: ReadonlyMap<string, readonly string[] | undefined>;
  readonly conditions: ReadonlySet<string>;
  readonly mappings: ReadonlyMap<
    string,
    Readonly<Record<string, Readonly<Record<string, unknown>>>>
  >;
  /** Where in the template the value stands, for "not allowed here" messages. */
  readonly where?: string;
}

type Mode = 'value' | 'condition';

/**
 * Compiled values keep the node they came from and read its position only
 * when a message needs it: a large template compiles tens of thousands of
 * calls and maps, and almost never reports on them.
 */
abstract class FromSource {
  constructor(private readonly source: Node) {}

  get loc(): Loc {
    return this.source.loc;
  }
}

class CompiledMap extends FromSource implements MapExpr {
  readonly kind = 'map';
  readonly compiled = true;
  constructor(
    source: Node,
    readonly entries: MapExpr['entries'],
  ) {
    super(source);
  }
}

class CompiledSeq extends FromSource implements SeqExpr {
  readonly kind = 'seq';
  readonly compiled = true;
  constructor(
    source: Node,
    readonly items: readonly Expr[],
  ) {
    super(source);
  }
}

class ConditionName extends FromSource implements CondRefExpr {
  readonly kind = 'cond';
  constructor(
    source: Node,
    readonly name: string,
  ) {
    super(source);
  }
}

class CompiledCall extends FromSource {
  readonly kind = 'call';
}

/** A map entry whose value was compiled; the key's position is read from the source entry when needed. */
class ExprEntry {
  constructor(
    private readonly source: MapEntry,
    readonly value: Expr,
  ) {}

  get key(): string {
    return this.source.key;
  }

  get keyLoc(): Loc {
    return this.source.keyLoc;
  }
}

/** Checks intrinsic functions and references in a value, turning it into an Expr. */
export function compile(node: Node, scope: CompileScope, mode: Mode = 'value'): Expr {
  if (node.kind === 'scalar') {
    if (mode === 'condition' && typeof node.value === 'string') {
      if (!scope.conditions.has(node.value)) {
        scope.diagnostics.add(
          'MISSING_CONDITION',
          `no condition named '${node.value}'${didYouMean(node.value, scope.conditions)}`,
          node.loc,
        );
        return { kind: 'bad', loc: node.loc };
      }
      return new ConditionName(node, node.value);
    }
    return node;
  }
  if (node.kind === 'seq') {
    if (mode === 'condition') return notACondition(node, scope);
    const items = compileChildren(node.items, itself, scope);
    return items === undefined ? node : new CompiledSeq(node, items);
  }
  const only = node.entries[0];
  if (node.entries.length === 1 && only !== undefined) {
    if (functionNames.has(only.key)) return compileCall(only.key, only.value, node, scope);
    const hint = unknownFunctionHint(only.key);
    if (hint) {
      scope.diagnostics.add(
        'UNKNOWN_FUNCTION',
        `unknown function '${only.key}'${hint}`,
        only.keyLoc,
      );
      return { kind: 'bad', loc: node.loc };
    }
  }
  if (mode === 'condition') return notACondition(node, scope);
  const entries = compileChildren(node.entries, valueOf, scope);
  if (entries === undefined) return node;
  // Entries whose value compiled to itself are kept as they are.
  return new CompiledMap(
    node,
    entries.map((value, i) => {
      const entry = node.entries[i] as MapEntry;
      return value === entry.value ? entry : new ExprEntry(entry, value);
    }),
  );
}

/**
 * Compiles a collection's children; undefined when every one compiled to
 * itself, which compile does only for what is literal: then the collection
 * is literal too, and is its own Expr. Literal collections are nearly all of
 * a template, so they get no arrays of their own here.
 */
function compileChildren<T>(
  children: readonly T[],
  nodeOf: (child: T) => Node,
  scope: CompileScope,
): Expr[] | undefined {
  let compiled: Expr[] | undefined;
  for (let i = 0; i < children.length; i++) {
    const source = nodeOf(children[i] as T);
    const expr = compile(source, scope);
    if (expr !== source) (compiled ??= children.map(nodeOf))[i] = expr;
  }
  return compiled;
}

const itself = (node: Node): Node => node;
const valueOf = (entry: MapEntry): Node => entry.value;

function notACondition(node: Node, scope: CompileScope): Expr {
  scope.diagnostics.add(
    'TYPE',
    `a condition is a condition name, a boolean, or equals/and/or/not; got ${describeNode(node)}`,
    node.loc,
  );
  return { kind: 'bad', loc: node.loc };
}

function compileCall(fn: string, arg: Node, call: Node, scope: CompileScope): Expr {
  const args = compileArgs(fn, arg, call, scope);
  if (args === undefined) return { kind: 'bad', loc: call.loc };
  return Object.assign(new CompiledCall(call), args) as CallExpr;
}

function compileArgs(fn: string, arg: Node, call: Node, scope: CompileScope): CallArgs | undefined {
  const d = scope.diagnostics;
  const wrong = (shape: string): undefined => {
    d.add('FUNCTION_ARGS', `${fn} takes ${shape}; got ${describeNode(arg)}`, arg.loc);
    return undefined;
  };
  const cond = (n: Node): Expr => compile(n, scope, 'condition');
  const value = (n: Node): Expr => compile(n, scope);

  switch (fn) {
    case 'get_param': {
      const nameNode = arg.kind === 'seq' ? arg.items[0] : arg;
      const name = literalName(nameNode);
      if (name === undefined || (arg.kind === 'seq' && arg.items.length === 0)) {
        return wrong('a parameter name, or [name, key, ...]');
      }
      if (!scope.parameters.has(name)) {
        d.add(
          'MISSING_PARAMETER',
          `no parameter named '${name}'${didYouMean(name, scope.parameters)}`,
          nameNode?.loc ?? call.loc,
        );
        return undefined;
      }
      return { fn, name, keys: arg.kind === 'seq' ? arg.items.slice(1).map(value) : [] };
    }
    case 'get_resource': {
      const name = literalName(arg);
      if (name === undefined) return wrong('a resource name');
      return checkResource(name, arg, scope) ? { fn, name } : undefined;
    }
    case 'get_attr': {
      if (arg.kind !== 'seq' || arg.items.length < 2)
        return wrong('[resource, attribute, key, ...]');
      const [resNode, attrNode, ...keys] = arg.items as [Node, Node, ...Node[]];
      const name = literalName(resNode);
      const attribute = literalName(attrNode);
      if (name === undefined || attribute === undefined) {
        return wrong('[resource, attribute, key, ...] with literal names');
      }
      if (!checkResource(name, resNode, scope)) return undefined;
      const attributes = scope.resources.get(name);
      if (attributes !== undefined && !attributes.includes(attribute)) {
        d.add(
          'UNKNOWN_ATTRIBUTE',
          `'${name}' has no attribute '${attribute}'${didYouMean(attribute, attributes)}` +
            (attributes.length ? `; it has ${listOf([...attributes], 'and')}` : '; it has none'),
          attrNode.loc,
        );
        return undefined;
      }
      return { fn, name, attribute, keys: keys.map(value) };
    }
    case 'list_join': {
      if (arg.kind !== 'seq' || arg.items.length < 2) return wrong('[separator, list, ...]');
      const [separator, ...lists] = arg.items as [Node, ...Node[]];
      return { fn, separator: value(separator), lists: lists.map(value) };
    }
    case 'str_replace': {
      if (arg.kind !== 'map') return wrong('{ template, params }');
      const known = checkKeys(arg, ['template', 'params'], fn, scope);
      const template = known.get('template');
      const params = known.get('params');
      if (template === undefined || params === undefined) {
        d.add('REQUIRED', `str_replace needs both template and params`, arg.loc);
        return undefined;
      }
      return { fn, template: value(template), params: value(params) };
    }
    case 'if': {
      if (arg.kind !== 'seq' || arg.items.length !== 3)
        return wrong('[condition, value_if_true, value_if_false]');
      const [c, t, e] = arg.items as [Node, Node, Node];
      return { fn, condition: cond(c), then: value(t), else: value(e) };
    }
    case 'equals': {
      if (arg.kind !== 'seq' || arg.items.length !== 2) return wrong('[value, value]');
      const [l, r] = arg.items as [Node, Node];
      return { fn, left: value(l), right: value(r) };
    }
    case 'and':
    case 'or': {
      if (arg.kind !== 'seq' || arg.items.length < 2)
        return wrong('a list of two or more conditions');
      return { fn, items: arg.items.map(cond) };
    }
    case 'not':
      return { fn, item: cond(arg) };
    case 'find_in_map': {
      if (arg.kind !== 'seq' || arg.items.length !== 3) return wrong('[mapping, key, key]');
      const [m, k1, k2] = arg.items as [Node, Node, Node];
      checkMappingLiterals(m, k1, k2, scope);
      return { fn, map: value(m), key1: value(k1), key2: value(k2) };
    }
    case 'get_file': {
      if (arg.kind !== 'scalar' || typeof arg.value !== 'string')
        return wrong('a literal relative path');
      const content = readInside(arg.value, arg.loc, scope);
      return content === undefined ? undefined : { fn, path: arg.value, content };
    }
    default:
      return undefined;
  }
}

function literalName(node: Node | undefined): string | undefined {
  return node?.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
}

function checkResource(name: string, node: Node, scope: CompileScope): boolean {
  if (scope.resources.has(name)) return true;
  scope.diagnostics.add(
    'MISSING_RESOURCE',
    `no resource named '${name}'${didYouMean(name, scope.resources.keys())}`,
    node.loc,
  );
  return false;
}

function checkKeys(
  node: MapNode,
  allowed: readonly string[],
  fn: string,
  scope: CompileScope,
): Map<string, Node> {
  const found = new Map<string, Node>();
  for (const entry of node.entries) {
    if (allowed.includes(entry.key)) found.set(entry.key, entry.value);
    else {
      scope.diagnostics.add(
        'UNKNOWN_KEY',
        `${fn} has no argument '${entry.key}'${didYouMean(entry.key, allowed)}`,
        entry.keyLoc,
      );
    }
  }
  return found;
}

function checkMappingLiterals(m: Node, k1: Node, k2: Node, scope: CompileScope): void {
  const name = literalName(m);
  if (name === undefined) return;
  const mapping = scope.mappings.get(name);
  if (mapping === undefined) {
    scope.diagnostics.add(
      'MISSING_MAPPING',
      `no mapping named '${name}'${didYouMean(name, scope.mappings.keys())}`,
      m.loc,
    );
    return;
  }
  const key1 = k1.kind === 'scalar' && k1.value !== null ? String(k1.value) : undefined;
  if (key1 === undefined) return;
  const row = mapping[key1];
  if (row === undefined) {
    scope.diagnostics.add(
      'MISSING_MAPPING',
      `mapping '${name}' has no key '${key1}'${didYouMean(key1, Object.keys(mapping))}`,
      k1.loc,
    );
    return;
  }
  const key2 = k2.kind === 'scalar' && k2.value !== null ? String(k2.value) : undefined;
  if (key2 !== undefined && !Object.hasOwn(row, key2)) {
    scope.diagnostics.add(
      'MISSING_MAPPING',
      `mapping '${name}.${key1}' has no key '${key2}'${didYouMean(key2, Object.keys(row))}`,
      k2.loc,
    );
  }
}

/**
 * Reads a file named relative to the template, refusing anything that leaves
 * the template's directory tree, even through a symbolic link.
 */
export function readInside(
  path: string,
  loc: Loc,
  scope: Pick<CompileScope, 'diagnostics' | 'dir'>,
): string | undefined {
  const d = scope.diagnostics;
  const target = insidePath(path, loc, scope);
  if (target === undefined) return undefined;
  try {
    const stat = statSync(target);
    if (!stat.isFile()) {
      d.add('MISSING_FILE', `'${path}' is not a file`, loc);
      return undefined;
    }
    if (stat.size > MAX_TEMPLATE_BYTES) {
      d.add(
        'TOO_LARGE',
        `'${path}' is ${stat.size} bytes; get_file reads at most ${MAX_TEMPLATE_BYTES}`,
        loc,
      );
      return undefined;
    }
    return readFileSync(target, 'utf8');
  } catch (error) {
    d.add('MISSING_FILE', `cannot read '${path}': ${(error as Error).message}`, loc);
    return undefined;
  }
}

/** The real path of `path` under `dir`, or undefined (with a diagnostic) when it escapes or is missing. */
export function insidePath(
  path: string,
  loc: Loc,
  scope: Pick<CompileScope, 'diagnostics' | 'dir'>,
  what = 'file',
  missing: 'MISSING_FILE' | 'MISSING_CONTEXT' = 'MISSING_FILE',
): string | undefined {
  const d = scope.diagnostics;
  if (isAbsolute(path)) {
    d.add('PATH_ESCAPE', `'${path}' is absolute; name the ${what} relative to the template`, loc);
    return undefined;
  }
  let root: string;
  let real: string;
  try {
    root = realpathSync(scope.dir);
  } catch (error) {
    d.add('MISSING_FILE', `cannot read the template directory: ${(error as Error).message}`, loc);
    return undefined;
  }
  const lexical = resolve(root, path);
  if (!within(root, lexical)) {
    d.add('PATH_ESCAPE', `'${path}' is outside the template's directory`, loc);
    return undefined;
  }
  try {
    real = realpathSync(lexical);
  } catch {
    d.add(missing, `${what} '${path}' does not exist`, loc);
    return undefined;
  }
  if (!within(root, real)) {
    d.add('PATH_ESCAPE', `'${path}' links outside the template's directory`, loc);
    return undefined;
  }
  return real;
}

function within(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
