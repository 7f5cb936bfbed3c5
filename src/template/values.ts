/**
 * Values that flow through resolution besides plain JSON:
 * - `Ref`: what get_resource returns, a reference to another resource;
 * - `Hidden`: a value derived from a hidden parameter or a secret, so that it
 *   can be redacted wherever it ends up;
 * - `UNKNOWN`: a value that cannot be known yet (validation without parameter
 *   values); checks skip it rather than guess.
 */
export class Ref {
  constructor(
    /** Qualified name of the resource (`db.web` inside nested stack `db`). */
    readonly resource: string,
    /** Its type, so that a property can insist on referencing e.g. an Artifact. */
    readonly type: string,
  ) {}

  toJSON(): { $ref: string } {
    return { $ref: this.resource };
  }
}

export class Hidden {
  constructor(readonly value: Value) {}

  toJSON(): string {
    return '(hidden)';
  }
}

class UnknownValue {
  toJSON(): string {
    return '(known after values are given)';
  }
}

export const UNKNOWN: unknown = new UnknownValue();
export const isUnknown = (v: unknown): boolean => v instanceof UnknownValue;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Value = unknown;

export type Path = readonly (string | number)[];

export interface Unwrapped {
  readonly value: unknown;
  readonly hidden: Path[];
  readonly unknown: Path[];
  readonly refs: { path: Path; ref: Ref }[];
}

/**
 * Removes Hidden wrappers (remembering where they were) and notes where
 * unknowns and references sit, so that schemas can check plain values.
 */
export function unwrap(value: Value): Unwrapped {
  const hidden: Path[] = [];
  const unknown: Path[] = [];
  const refs: { path: Path; ref: Ref }[] = [];
  // Copy-on-write: subtrees without wrappers come back as they are.
  const walk = (v: Value, path: (string | number)[], inHidden: boolean): unknown => {
    if (v instanceof Hidden) {
      if (!inHidden) hidden.push([...path]);
      return walk(v.value, path, true);
    }
    if (isUnknown(v)) {
      unknown.push([...path]);
      return v;
    }
    if (v instanceof Ref) {
      refs.push({ path: [...path], ref: v });
      return v;
    }
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      v.forEach((item, i) => {
        path.push(i);
        const out = walk(item, path, inHidden);
        path.pop();
        if (out !== item) (copy ??= [...v])[i] = out;
      });
      return copy ?? v;
    }
    if (isPlainObject(v)) {
      let copy: Record<string, unknown> | undefined;
      for (const key of Object.keys(v)) {
        path.push(key);
        const out = walk(v[key], path, inHidden);
        path.pop();
        if (out !== v[key]) (copy ??= { ...v })[key] = out;
      }
      return copy ?? v;
    }
    return v;
  };
  const plain = walk(value, [], false);
  return { value: plain, hidden, unknown, refs };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.getPrototypeOf(v) === Object.prototype
  );
}

/** True when any part of the value is hidden. */
export function containsHidden(v: Value): boolean {
  if (v instanceof Hidden) return true;
  if (Array.isArray(v)) return v.some(containsHidden);
  if (isPlainObject(v)) return Object.values(v).some(containsHidden);
  return false;
}

export function containsUnknown(v: Value): boolean {
  if (isUnknown(v)) return true;
  if (v instanceof Hidden) return containsUnknown(v.value);
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (isPlainObject(v)) return Object.values(v).some(containsUnknown);
  return false;
}

/** The value without any Hidden wrapper (for computing with it). */
export function reveal(v: Value): Value {
  if (v instanceof Hidden) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(v)) out[key] = reveal(item);
    return out;
  }
  return v;
}

/** Wraps a computed result as hidden when any of its inputs was. */
export function taint(result: Value, inputs: readonly Value[]): Value {
  return inputs.some(containsHidden) ? new Hidden(reveal(result)) : result;
}

export function pathText(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

export function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => path[i] === p);
}
