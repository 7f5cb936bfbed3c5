import { createHmac, hash } from 'node:crypto';

/**
 * The canonical form of a JSON value: keys sorted by code unit, no
 * whitespace, numbers in their shortest form, -0 as 0. Two values with the
 * same meaning have the same canonical text, whatever their key order or
 * formatting was (in the spirit of RFC 8785).
 */
export function canonicalJson(value: unknown): string {
  return write(value, '', undefined, false);
}

/**
 * The canonical form of what a revision covers: the spec without its settings
 * (top-level keys), references to what a workload runs by their revision only.
 */
export function canonicalRevisionJson(
  spec: Record<string, unknown>,
  settings: readonly string[],
): string {
  return write(spec, '', settings, true);
}

// One recursive writer with string concatenation: this runs for every
// resource of every plan, so it avoids building intermediate arrays.
function write(
  value: unknown,
  out: string,
  omit: readonly string[] | undefined,
  refsByRevision: boolean,
): string {
  if (value === null || value === undefined) return `${out}null`;
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot canonicalise ${value}`);
      return out + (Object.is(value, -0) ? '0' : JSON.stringify(value));
    case 'string':
    case 'boolean':
      return out + JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new TypeError(`cannot canonicalise a ${typeof value}`);
  }
  if (Array.isArray(value)) {
    out += '[';
    for (let i = 0; i < value.length; i++)
      out = write(value[i], i === 0 ? out : `${out},`, undefined, refsByRevision);
    return `${out}]`;
  }
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return write(json.call(value), out, omit, refsByRevision);
  const record = value as Record<string, unknown>;
  if (refsByRevision && typeof record['$ref'] === 'string' && 'revision' in record) {
    return write({ $revision: record['revision'] ?? null }, out, undefined, false);
  }
  const keys = sortedKeys(record);
  out += '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined || omit?.includes(key)) continue;
    out = write(
      item,
      `${out}${first ? '' : ','}${JSON.stringify(key)}:`,
      undefined,
      refsByRevision,
    );
    first = false;
  }
  return `${out}}`;
}

/**
 * Keys in code-unit order, as `sort()` gives them. Small objects (nearly all
 * of a spec) are sorted in place by insertion: `sort()` allocates a work
 * array on every call, and this runs for every object of every spec.
 */
function sortedKeys(record: object): string[] {
  const keys = Object.keys(record);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    for (; j >= 0 && (keys[j] as string) > key; j--) keys[j + 1] = keys[j] as string;
    keys[j + 1] = key;
  }
  return keys;
}

export function sha256(text: string | Uint8Array): string {
  // The one-shot form: no Hash object per call, and it runs once per resource.
  return hash('sha256', text, 'hex');
}

/** A revision id: the sha256 of the canonical form. */
export function contentId(value: unknown): string {
  return sha256(canonicalJson(value));
}

/**
 * Stands in for a hidden value in specs, plans and records: a keyed digest, so
 * a change is visible as a change, yet the value cannot be guessed from it.
 */
export function hiddenDigest(key: Uint8Array, value: unknown): { $hidden: string } {
  return { $hidden: createHmac('sha256', key).update(canonicalJson(value)).digest('hex') };
}

export function isHiddenDigest(value: unknown): value is { $hidden: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.keys(value).length === 1 &&
    typeof (value as { $hidden?: unknown }).$hidden === 'string'
  );
}

/** Short form of a revision id for people: the first 12 hex digits. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}
