import { createHash, createHmac } from 'node:crypto';

/**
 * The canonical form of a JSON value: keys sorted by code unit, no
 * whitespace, numbers in their shortest form, -0 as 0. Two values with the
 * same meaning have the same canonical text, whatever their key order or
 * formatting was (in the spirit of RFC 8785).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot canonicalise ${value}`);
    return Object.is(value, -0) ? '0' : JSON.stringify(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const json = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof json === 'function') return canonicalJson(json.call(value));
    const keys = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  throw new TypeError(`cannot canonicalise a ${typeof value}`);
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
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
