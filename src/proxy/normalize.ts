/**
 * Request targets are normalised before they are matched, and the upstream
 * gets exactly the normalised form: a route can then never be reached through
 * a path that another route's backend would read differently
 * (`/public/%2e%2e/admin`, `//admin`, `/a\b`).
 */

export type Target =
  | { readonly ok: true; readonly path: string; readonly query: string; readonly host?: string }
  | { readonly ok: false; readonly reason: string };

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = '0123456789ABCDEF';

function fail(reason: string): Target {
  return { ok: false, reason };
}

/** Percent-decodes unreserved characters only; other escapes are kept, with upper-case hex. */
function decodeUnreserved(segment: string): string | undefined {
  if (!segment.includes('%')) return segment;
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = segment.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    const code = parseInt(hex, 16);
    const ch = String.fromCharCode(code);
    if (code === 0 || code === 0x5c) return undefined; // NUL, backslash
    out += UNRESERVED.test(ch) && code < 0x80 ? ch : `%${HEX[code >> 4]}${HEX[code & 15]}`;
    i += 2;
  }
  return out;
}

/** Controls, space, non-ASCII, '#' and '\\' have no place in a request target. */
function hasForbiddenCharacter(target: string): boolean {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x23 || c === 0x5c) return true;
  }
  return false;
}

export function normalizeTarget(raw: string): Target {
  let target = raw;
  let host: string | undefined;
  if (target.startsWith('http://') || target.startsWith('https://')) {
    // absolute-form (RFC 9112 §3.2.2): the host in the target wins over the Host header.
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return fail('malformed request target');
    }
    host = url.host;
    target = url.pathname + url.search;
  }
  if (!target.startsWith('/')) return fail('request target must be an absolute path');
  if (hasForbiddenCharacter(target)) return fail('request target holds a forbidden character');
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q);
  // Most paths need nothing done: no escapes, no dot segments, no empty segments.
  if (!rawPath.includes('%') && !rawPath.includes('/.') && !rawPath.includes('//')) {
    return host === undefined
      ? { ok: true, path: rawPath, query }
      : { ok: true, path: rawPath, query, host };
  }

  const out: string[] = [];
  // Empty segments (from '//') are dropped, as nginx's merge_slashes does.
  const segments = rawPath.split('/');
  const trailing = rawPath.length > 1 && rawPath.endsWith('/');
  for (const rawSegment of segments) {
    if (rawSegment === '') continue;
    const segment = decodeUnreserved(rawSegment);
    if (segment === undefined) return fail('request path holds a malformed or forbidden escape');
    if (segment === '.') continue;
    if (segment === '..') {
      out.pop();
      continue;
    }
    out.push(segment);
  }
  const path = `/${out.join('/')}${trailing && out.length > 0 ? '/' : ''}`;
  return host === undefined ? { ok: true, path, query } : { ok: true, path, query, host };
}

/** `Host` header value to a bare lower-case host name (no port, no trailing dot). */
export function normalizeHost(value: string | undefined): string {
  if (value === undefined) return '';
  let host = value.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
