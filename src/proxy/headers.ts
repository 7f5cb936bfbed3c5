/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never
 * forwarded, nor is any header the Connection header names.
 */
const NONE: ReadonlySet<string> = new Set();

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Header names (lower-case) listed in Connection headers. */
export function connectionListed(raw: readonly string[]): Set<string> {
  const listed = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] as string).split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') listed.add(name);
    }
  }
  return listed;
}

/**
 * The end-to-end headers of a flat raw header list, minus `drop` (lower-case
 * names the caller sets itself).
 */
export function endToEnd(raw: readonly string[], drop: ReadonlySet<string> = NONE): string[] {
  const listed = connectionListed(raw);
  const out: string[] = [];
  if (
    listed.size === 0 ||
    (listed.size === 1 && (listed.has('keep-alive') || listed.has('close')))
  ) {
    // The usual case: Connection names only itself-like tokens, which are hop-by-hop anyway.
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || drop.has(lower)) continue;
      out.push(name, raw[i + 1] as string);
    }
    return out;
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed.has(lower) || drop.has(lower)) continue;
    out.push(name, raw[i + 1] as string);
  }
  return out;
}

/** The first value of a header in a flat raw list, by lower-case name. */
export function headerValue(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2)
    if ((raw[i] as string).toLowerCase() === lowerName) return raw[i + 1];
  return undefined;
}

/** Header values must not smuggle a line break into the head we write. */
export function safeHeaderValue(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}
