import { describe, expect, it } from 'vitest';

import { HIDDEN, Redactor } from './redactor.js';

function redactor(...values: string[]): Redactor {
  const r = new Redactor();
  for (const value of values) r.add(value);
  return r;
}

describe('Redactor', () => {
  const cases: { name: string; secrets: string[]; text: string; expected: string }[] = [
    { name: 'no secrets known', secrets: [], text: 'hello', expected: 'hello' },
    {
      name: 'every occurrence',
      secrets: ['hunter2'],
      text: 'pw=hunter2, again hunter2.',
      expected: `pw=${HIDDEN}, again ${HIDDEN}.`,
    },
    {
      name: 'the longest of nested values, whole',
      secrets: ['pass', 'password123'],
      text: 'login with password123 or pass',
      expected: `login with ${HIDDEN} or ${HIDDEN}`,
    },
    {
      name: 'overlapping values as one, leaving no part visible',
      secrets: ['abcdef', 'defghi'],
      text: 'x abcdefghi y',
      expected: `x ${HIDDEN} y`,
    },
    {
      name: 'touching values as one',
      secrets: ['aaaa1', 'bbbb2'],
      text: '[aaaa1bbbb2]',
      expected: `[${HIDDEN}]`,
    },
    {
      name: 'values shorter than 4 characters are left alone',
      secrets: ['abc', 'a', ''],
      text: 'abc a b c',
      expected: 'abc a b c',
    },
    {
      name: 'exactly 4 characters is enough',
      secrets: ['abcd'],
      text: 'xabcdx',
      expected: `x${HIDDEN}x`,
    },
    {
      name: 'regular expression characters are plain text',
      secrets: ['a.b*c(d)$'],
      text: 'aXbbc(d)$ and a.b*c(d)$',
      expected: `aXbbc(d)$ and ${HIDDEN}`,
    },
    {
      name: 'JSON-escaped form',
      secrets: ['say "hi"\\now'],
      text: '{"password":"say \\"hi\\"\\\\now"}',
      expected: `{"password":"${HIDDEN}"}`,
    },
    {
      name: 'percent-encoded form',
      secrets: ['p@ss word/1'],
      text: 'GET https://u:p%40ss%20word%2F1@host/',
      expected: `GET https://u:${HIDDEN}@host/`,
    },
    {
      name: 'each line of a multi-line value',
      secrets: ['-----BEGIN KEY-----\nMIIEvQIBADANBgkqh\nkiG9w0BAQEFAASC\n-----END KEY-----\n'],
      text: 'line 2: MIIEvQIBADANBgkqh',
      expected: `line 2: ${HIDDEN}`,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(redactor(...c.secrets).redact(c.text)).toBe(c.expected);
    });
  }

  it('says whether a value will be redacted', () => {
    const r = new Redactor();
    expect(r.add('abc')).toBe(false);
    expect(r.add('abcd')).toBe(true);
    expect(r.add(Buffer.from('from bytes'))).toBe(true);
    expect(r.redact('from bytes')).toBe(HIDDEN);
  });

  it('copes with a lone surrogate', () => {
    const r = redactor('ab\uD800cd');
    expect(r.redact('x ab\uD800cd y')).toBe(`x ${HIDDEN} y`);
  });

  it('never leaves a secret in text made of secrets and noise (property)', () => {
    const secrets = ['s3cr3t', 'cr3t-ish', 'token-abcdef', 'abcdef-more'];
    const r = redactor(...secrets);
    const pieces = [...secrets, ' ', 'x', 's3c', 'token-', '-more', 'cr3'];
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 500; i++) {
      let text = '';
      for (let j = random(12); j >= 0; j--) text += pieces[random(pieces.length)];
      const out = r.redact(text);
      for (const secret of secrets) expect(out, text).not.toContain(secret);
    }
  });
});
