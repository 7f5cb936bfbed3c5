import type { Json } from '../template/index.js';
import { canonicalJson, isHiddenDigest } from '../template/index.js';

/** One changed field: `before`/`after` absent means the field is not set on that side. */
export interface Change {
  readonly path: string;
  readonly before?: Json;
  readonly after?: Json;
}

/** A reference to what a workload runs, as recorded: `{ $ref, revision }`. */
export function isContentRef(v: unknown): v is { $ref: string; revision: string | null } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { $ref?: unknown }).$ref === 'string' &&
    'revision' in v
  );
}

function isLeafObject(v: Json): boolean {
  return isHiddenDigest(v) || isContentRef(v);
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const safe = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  return path === '' ? safe : `${path}.${safe}`;
}

/**
 * Field-level differences between two specs, in key order. Lists of equal
 * length are compared item by item; otherwise a list changes as a whole,
 * which reads better than a cascade of shifted items.
 */
export function diffSpecs(before: Json | undefined, after: Json | undefined): Change[] {
  const changes: Change[] = [];
  if (before === undefined && after === undefined) return changes;
  // A resource created or deleted as a whole still lists its fields one by one.
  const whole = before ?? after;
  if ((before === undefined || after === undefined) && whole !== undefined && isObject(whole)) {
    for (const k of Object.keys(whole).sort()) {
      collect(
        before === undefined ? undefined : whole[k],
        after === undefined ? undefined : whole[k],
        join('', k),
        changes,
      );
    }
    return changes;
  }
  collect(before, after, '', changes);
  return changes;
}

/** Adds the differences below `path` to `changes` (one list for the whole walk, not one per level). */
function collect(
  before: Json | undefined,
  after: Json | undefined,
  path: string,
  changes: Change[],
): void {
  if (before === undefined && after === undefined) return;
  if (before !== undefined && after !== undefined && canonicalJson(before) === canonicalJson(after))
    return;
  if (
    before !== undefined &&
    after !== undefined &&
    isObject(before) &&
    isObject(after) &&
    !isLeafObject(before) &&
    !isLeafObject(after)
  ) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const k of keys) collect(before[k], after[k], join(path, k), changes);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((item, i) => collect(item, after[i], join(path, i), changes));
    return;
  }
  const field = path === '' ? '(all)' : path;
  changes.push(
    before === undefined
      ? { path: field, after }
      : after === undefined
        ? { path: field, before }
        : { path: field, before, after },
  );
}

function isObject(v: Json): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
