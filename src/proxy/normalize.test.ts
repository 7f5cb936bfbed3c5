import { describe, expect, it } from 'vitest';

import { normalizeHost, normalizeTarget } from './normalize.js';

describe('request target normalisation', () => {
  it.each([
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b/'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/a//b///c', '/a/b/c'],
    ['/public/%2e%2e/admin', '/admin'],
    ['/public/%2E%2E/admin', '/admin'],
    ['/public/.%2e/admin', '/admin'],
    ['/%61%62c', '/abc'],
    ['/a%2Fb', '/a%2Fb'],
    ['/a%2fb', '/a%2Fb'],
    ['/a%20b', '/a%20b'],
    ['/caf%c3%a9', '/caf%C3%A9'],
  ])('%s → %s', (raw, path) => {
    expect(normalizeTarget(raw)).toEqual({ ok: true, path, query: '' });
  });

  it('keeps the query as it is', () => {
    expect(normalizeTarget('/a/../b?x=1&y=%2e%2e/..')).toEqual({
      ok: true,
      path: '/b',
      query: '?x=1&y=%2e%2e/..',
    });
  });

  it('takes the host from an absolute-form target', () => {
    expect(normalizeTarget('http://App.Example.com:8080/x/../y?q')).toEqual({
      ok: true,
      path: '/y',
      query: '?q',
      host: 'app.example.com:8080',
    });
  });

  it.each([
    ['*', 'absolute path'],
    ['a/b', 'absolute path'],
    ['/a\\b', 'forbidden character'],
    ['/a%5cb', 'forbidden escape'],
    ['/a%00b', 'forbidden escape'],
    ['/a%zzb', 'malformed'],
    ['/a#frag', 'forbidden character'],
    ['/a b', 'forbidden character'],
  ])('refuses %s', (raw, reason) => {
    const result = normalizeTarget(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it.each([
    ['App.Example.COM', 'app.example.com'],
    ['app.example.com:8080', 'app.example.com'],
    ['app.example.com.', 'app.example.com'],
    ['[::1]:8080', '[::1]'],
    [undefined, ''],
  ])('host %s → %s', (raw, host) => {
    expect(normalizeHost(raw)).toBe(host);
  });
});
