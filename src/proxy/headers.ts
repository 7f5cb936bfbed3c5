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

const lengthTables = new WeakMap<ReadonlySet<string>, boolean[]>();

/** Name lengths worth a closer look: a header of any other length is passed on without lower-casing it. */
function lengthsOf(drop: ReadonlySet<string>): boolean[] {
  let table = lengthTables.get(drop);
  if (table === undefined) {
    table = [];
    for (const name of [...HOP_BY_HOP, ...drop]) table[name.length] = true;
    lengthTables.set(drop, table);
  }
  return table;
}

/**
 * The end-to-end headers of a flat raw header list, minus `drop` (lower-case
 * names the caller sets itself).
 */
export function endToEnd(raw: readonly string[], drop: ReadonlySet<string> = NONE): string[] {
  const lengths = lengthsOf(drop);
  const out: string[] = [];
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!lengths[name.length]) {
      out.push(name, raw[i + 1] as string);
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      for (const token of (raw[i + 1] as string).split(',')) {
        const t = token.trim().toLowerCase();
        if (t !== '' && t !== 'close' && t !== 'keep-alive') (listed ??= new Set()).add(t);
      }
      continue;
    }
    if (HOP_BY_HOP.has(lower) || drop.has(lower)) continue;
    out.push(name, raw[i + 1] as string);
  }
  if (listed === undefined) return out;
  // Headers the Connection header names are hop-by-hop too.
  const filtered: string[] = [];
  for (let i = 0; i < out.length; i += 2) {
    if (!listed.has((out[i] as string).toLowerCase()))
      filtered.push(out[i] as string, out[i + 1] as string);
  }
  return filtered;
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
