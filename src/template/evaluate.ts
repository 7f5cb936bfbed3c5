import { isDeepStrictEqual } from 'node:util';

import type { Diagnostics, Loc } from './errors.js';
import type { CallExpr, Expr } from './expr.js';
import { isLiteral } from './expr.js';
import type { Node } from './source.js';
import { describeValue, toPlain } from './source.js';
import { didYouMean } from './suggest.js';
import type { Ref, Value } from './values.js';
import {
  containsUnknown,
  Hidden,
  isPlainObject,
  isUnknown,
  reveal,
  taint,
  UNKNOWN,
} from './values.js';

/** What evaluation reads: values known at this point of resolution. */
export interface EvalScope {
  readonly diagnostics: Diagnostics;
  param(name: string): Value;
  condition(name: string): Value;
  /** undefined when the resource is left out by its condition. */
  resource(name: string): { ref: Ref; attributes: Value } | 'disabled' | undefined;
  mapping(name: string): Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
}

/** Evaluates a checked value. Problems become diagnostics and the value becomes UNKNOWN. */
export function evaluate(expr: Expr, scope: EvalScope): Value {
  switch (expr.kind) {
    case 'scalar':
      return expr.value;
    case 'bad':
      return UNKNOWN;
    case 'cond':
      return scope.condition(expr.name);
    case 'seq':
      if (isLiteral(expr)) return toPlain(expr as Node);
      return expr.items.map((item) => evaluate(item, scope));
    case 'map': {
      if (isLiteral(expr)) return toPlain(expr as Node);
      const out: Record<string, Value> = {};
      for (const entry of expr.entries) out[entry.key] = evaluate(entry.value, scope);
      return out;
    }
    case 'call':
      return call(expr, scope);
  }
}

/** A condition's truth: true, false or UNKNOWN. */
export function evaluateCondition(expr: Expr, scope: EvalScope): Value {
  const v = reveal(evaluate(expr, scope));
  if (typeof v === 'boolean' || isUnknown(v)) return v;
  scope.diagnostics.add(
    'TYPE',
    `a condition must be true or false, got ${describeValue(v)}`,
    expr.loc,
  );
  return UNKNOWN;
}

function fail(
  scope: EvalScope,
  loc: Loc,
  code: 'TYPE' | 'INVALID_VALUE' | 'MISSING_MAPPING' | 'REF_DISABLED',
  message: string,
): Value {
  scope.diagnostics.add(code, message, loc);
  return UNKNOWN;
}

function call(c: CallExpr, scope: EvalScope): Value {
  switch (c.fn) {
    case 'get_param': {
      const value = scope.param(c.name);
      // Nearly every call names just the parameter: no key path to follow or describe.
      return c.keys.length === 0 ? value : index(value, c.keys, scope, `parameter '${c.name}'`);
    }
    case 'get_resource': {
      const target = scope.resource(c.name);
      if (target === 'disabled')
        return fail(scope, c.loc, 'REF_DISABLED', `'${c.name}' is left out by its condition`);
      return target === undefined ? UNKNOWN : target.ref;
    }
    case 'get_attr': {
      const target = scope.resource(c.name);
      if (target === 'disabled')
        return fail(scope, c.loc, 'REF_DISABLED', `'${c.name}' is left out by its condition`);
      if (target === undefined || isUnknown(target.attributes)) return UNKNOWN;
      const attribute = (target.attributes as Record<string, Value>)[c.attribute];
      return c.keys.length === 0
        ? attribute
        : index(attribute, c.keys, scope, `${c.name}.${c.attribute}`);
    }
    case 'list_join':
      return listJoin(c, scope);
    case 'str_replace':
      return strReplace(c, scope);
    case 'if': {
      const condition = evaluateCondition(c.condition, scope);
      if (isUnknown(condition)) {
        // Evaluate both sides for their problems; the result is not known yet.
        evaluate(c.then, scope);
        evaluate(c.else, scope);
        return UNKNOWN;
      }
      return evaluate(condition === true ? c.then : c.else, scope);
    }
    case 'equals': {
      const left = evaluate(c.left, scope);
      const right = evaluate(c.right, scope);
      if (containsUnknown(left) || containsUnknown(right)) return UNKNOWN;
      return isDeepStrictEqual(reveal(left), reveal(right));
    }
    case 'and':
    case 'or': {
      const decisive = c.fn === 'or';
      let unknown = false;
      for (const item of c.items) {
        const v = evaluateCondition(item, scope);
        if (v === decisive) return decisive;
        if (isUnknown(v)) unknown = true;
      }
      return unknown ? UNKNOWN : !decisive;
    }
    case 'not': {
      const v = evaluateCondition(c.item, scope);
      return isUnknown(v) ? UNKNOWN : !v;
    }
    case 'find_in_map':
      return findInMap(c, scope);
    case 'get_file':
      return c.content;
  }
}

/** Follows `keys` into a json or list value (get_param / get_attr with a key path). */
function index(value: Value, keys: readonly Expr[], scope: EvalScope, what: string): Value {
  let current = value;
  let hidden = false;
  for (const keyExpr of keys) {
    const key = reveal(evaluate(keyExpr, scope));
    if (current instanceof Hidden) {
      hidden = true;
      current = current.value;
    }
    if (isUnknown(current) || isUnknown(key)) return UNKNOWN;
    if (Array.isArray(current) && (typeof key === 'number' || /^\d+$/.test(String(key)))) {
      const i = Number(key);
      if (i >= current.length) {
        return fail(
          scope,
          keyExpr.loc,
          'INVALID_VALUE',
          `${what} has no item ${i} (it has ${current.length})`,
        );
      }
      current = current[i];
    } else if (isPlainObject(current) && (typeof key === 'string' || typeof key === 'number')) {
      if (!Object.hasOwn(current, String(key))) {
        return fail(
          scope,
          keyExpr.loc,
          'INVALID_VALUE',
          `${what} has no key '${String(key)}'${didYouMean(String(key), Object.keys(current))}`,
        );
      }
      current = current[String(key)];
    } else {
      return fail(
        scope,
        keyExpr.loc,
        'TYPE',
        `cannot look up ${describeValue(key)} in ${describeValue(current)} (${what})`,
      );
    }
    what = `${what}.${String(key)}`;
  }
  return hidden && !(current instanceof Hidden) ? new Hidden(current) : current;
}

function text(v: Value): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function listJoin(c: Extract<CallExpr, { fn: 'list_join' }>, scope: EvalScope): Value {
  const separator = evaluate(c.separator, scope);
  const lists = c.lists.map((l) => evaluate(l, scope));
  const inputs = [separator, ...lists];
  if (inputs.some(containsUnknown)) return UNKNOWN;
  const sepText = text(reveal(separator));
  if (sepText === undefined) {
    return fail(
      scope,
      c.separator.loc,
      'TYPE',
      `list_join separator must be a string, got ${describeValue(reveal(separator))}`,
    );
  }
  const parts: string[] = [];
  for (const [i, list] of lists.entries()) {
    const items = reveal(list);
    if (!Array.isArray(items)) {
      return fail(
        scope,
        c.lists[i]?.loc ?? c.loc,
        'TYPE',
        `list_join joins lists, got ${describeValue(items)}`,
      );
    }
    for (const item of items) {
      const t = text(item);
      if (t === undefined) {
        return fail(
          scope,
          c.lists[i]?.loc ?? c.loc,
          'TYPE',
          `list_join joins strings and numbers, got ${describeValue(item)}`,
        );
      }
      parts.push(t);
    }
  }
  return taint(parts.join(sepText), inputs);
}

function strReplace(c: Extract<CallExpr, { fn: 'str_replace' }>, scope: EvalScope): Value {
  const template = evaluate(c.template, scope);
  const params = evaluate(c.params, scope);
  if (containsUnknown(template) || containsUnknown(params)) return UNKNOWN;
  const templateText = text(reveal(template));
  if (templateText === undefined) {
    return fail(
      scope,
      c.template.loc,
      'TYPE',
      `str_replace template must be a string, got ${describeValue(reveal(template))}`,
    );
  }
  const table = reveal(params);
  if (!isPlainObject(table)) {
    return fail(
      scope,
      c.params.loc,
      'TYPE',
      `str_replace params must be a mapping, got ${describeValue(table)}`,
    );
  }
  const replacements = new Map<string, string>();
  for (const [key, v] of Object.entries(table)) {
    const t = text(v);
    if (t === undefined) {
      return fail(
        scope,
        c.params.loc,
        'TYPE',
        `str_replace param '${key}' must be a string or number, got ${describeValue(v)}`,
      );
    }
    if (key !== '') replacements.set(key, t);
  }
  // One pass, longest key first, so that replaced text is never replaced again.
  const keys = [...replacements.keys()].sort((a, b) => b.length - a.length);
  if (keys.length === 0) return taint(templateText, [template, params]);
  const pattern = new RegExp(
    keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
    'g',
  );
  const result = templateText.replace(pattern, (m) => replacements.get(m) ?? m);
  return taint(result, [template, params]);
}

function findInMap(c: Extract<CallExpr, { fn: 'find_in_map' }>, scope: EvalScope): Value {
  const name = reveal(evaluate(c.map, scope));
  const key1 = reveal(evaluate(c.key1, scope));
  const key2 = reveal(evaluate(c.key2, scope));
  if (isUnknown(name) || isUnknown(key1) || isUnknown(key2)) return UNKNOWN;
  const mapName = text(name);
  const k1 = text(key1);
  const k2 = text(key2);
  if (mapName === undefined || k1 === undefined || k2 === undefined) {
    return fail(scope, c.loc, 'TYPE', 'find_in_map takes a mapping name and two keys, all strings');
  }
  const mapping = scope.mapping(mapName);
  if (mapping === undefined) {
    return fail(scope, c.map.loc, 'MISSING_MAPPING', `no mapping named '${mapName}'`);
  }
  const row = mapping[k1];
  if (row === undefined) {
    return fail(
      scope,
      c.key1.loc,
      'MISSING_MAPPING',
      `mapping '${mapName}' has no key '${k1}'${didYouMean(k1, Object.keys(mapping))}`,
    );
  }
  if (!Object.hasOwn(row, k2)) {
    return fail(
      scope,
      c.key2.loc,
      'MISSING_MAPPING',
      `mapping '${mapName}.${k1}' has no key '${k2}'${didYouMean(k2, Object.keys(row))}`,
    );
  }
  return row[k2];
}
