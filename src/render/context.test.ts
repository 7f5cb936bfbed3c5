import { describe, expect, it } from 'vitest';

import type { RegistrySnapshot, Route } from '../registry/index.js';

import { renderContext } from './context.js';
import { endpoint } from './testing/harness.js';

const route = (name: string, service: string, stack = 's'): Route => ({
  stack,
  name,
  path: '/',
  service,
});

const snapshot: RegistrySnapshot = {
  revision: 7,
  endpoints: [
    endpoint('i3'),
    endpoint('i1', { port: 8001 }),
    endpoint('sick', { healthy: false }),
    endpoint('leaving', { draining: true }),
    endpoint('idle', { weight: 0 }),
    endpoint('a1', { service: 'api' }),
    endpoint('other', { stack: 't' }),
  ],
  routes: [route('web_route', 'web'), route('admin', 'admin'), route('x', 'web', 't')],
};

const ids = (endpoints: readonly { instance: string }[]) => endpoints.map((e) => e.instance);

describe('renderContext', () => {
  it('gives a service its serving endpoints, sorted, and all of them apart', () => {
    const context = renderContext(snapshot, 's', 'web');
    expect(context.service).toBe('web');
    expect(ids(context.endpoints)).toEqual(['i1', 'i3']);
    expect(ids(context.all)).toEqual(['i1', 'i3', 'idle', 'leaving', 'sick']);
  });

  it('without a service takes the whole stack, ordered by (service, instance)', () => {
    const context = renderContext(snapshot, 's');
    expect('service' in context).toBe(false);
    expect(context.endpoints.map((e) => `${e.service}/${e.instance}`)).toEqual([
      'api/a1',
      'web/i1',
      'web/i3',
    ]);
    expect(context.all.every((e) => e.stack === 's')).toBe(true);
  });

  it('maps every service with an endpoint or a route to its serving endpoints', () => {
    const { services, routes } = renderContext(snapshot, 's', 'web');
    expect(Object.keys(services)).toEqual(['admin', 'api', 'web']);
    expect(services['admin']).toEqual([]);
    expect(ids(services['web'] ?? [])).toEqual(['i1', 'i3']);
    expect(routes.map((r) => r.name)).toEqual(['admin', 'web_route']);
  });

  it('is deterministic: the order of the snapshot does not matter', () => {
    const reversed = {
      ...snapshot,
      endpoints: [...snapshot.endpoints].reverse(),
      routes: [...snapshot.routes].reverse(),
    };
    expect(JSON.stringify(renderContext(reversed, 's', 'web'))).toBe(
      JSON.stringify(renderContext(snapshot, 's', 'web')),
    );
    // Nothing from the snapshot beyond its content (no revision, no clock).
    expect(JSON.stringify(renderContext({ ...snapshot, revision: 99 }, 's'))).toBe(
      JSON.stringify(renderContext(snapshot, 's')),
    );
  });

  it('does not reorder the snapshot it was given', () => {
    const before = ids(snapshot.endpoints);
    renderContext(snapshot, 's');
    expect(ids(snapshot.endpoints)).toEqual(before);
  });

  it('keeps a service named like an Object.prototype key as plain data', () => {
    const odd = { revision: 1, endpoints: [endpoint('p', { service: '__proto__' })], routes: [] };
    const { services } = renderContext(odd, 's');
    expect(Object.keys(services)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(services)).toBe(Object.prototype);
  });
});
