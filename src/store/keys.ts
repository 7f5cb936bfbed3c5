/**
 * Orders keys by their UTF-8 bytes, the order every backend returns them in.
 * UTF-8 byte order is code point order, which differs from JavaScript's `<`
 * (UTF-16 code units) once a key holds characters above U+FFFF: '\u{1F600}'
 * sorts after '\uFFFF' here but before it with `<`.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      return codePointRank(x) - codePointRank(y);
    }
  }
  return a.length - b.length;
}

/**
 * Moves surrogates (U+D800–U+DFFF, which encode code points above U+FFFF) above
 * U+E000–U+FFFF, so comparing the first differing code unit gives code point order.
 */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) {
    return unit - 0x800;
  }
  return unit >= 0xd800 ? unit + 0x2000 : unit;
}

/** A lone surrogate cannot be encoded as UTF-8 and would silently become U+FFFD. */
export function isWellFormed(text: string): boolean {
  return !/\p{Cs}/u.test(text);
}
