import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, it } from 'vitest';

import { Proxy } from './proxy.js';
import type { TestBackend } from './testing/backends.js';
import { endpoint, route, snapshot, startBackend } from './testing/backends.js';

// The proxy serves clients itself (Node's llhttp parser, raw writes): these are
// the HTTP/1.1 server duties `http.Server` used to take care of, on raw sockets.

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function proxyTo(
  handler?: Parameters<typeof startBackend>[1],
  options: ConstructorParameters<typeof Proxy>[0] = {},
): Promise<{ port: number; backend: TestBackend }> {
  const backend = await startBackend('a', handler);
  cleanup.push(() => backend.close());
  const proxy = new Proxy({ port: 0, ...options });
  const { port } = await proxy.listen();
  cleanup.push(() => proxy.close());
  proxy.update(snapshot([route()], [endpoint(backend)]));
  return { port, backend };
}

/** A raw client connection that keeps everything it receives. */
async function rawClient(port: number): Promise<{
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
}> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  cleanup.push(() => socket.destroy());
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const get = (path: string, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: app.localhost\r\n${extra}\r\n`;

describe('client connections', () => {
  it('answers pipelined requests in order, whatever order the backend answers them in', async () => {
    const { port } = await proxyTo((req, res) => {
      const delay = req.url === '/slow' ? 200 : 0;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`answer to ${req.url}`);
      }, delay);
    });
    const client = await rawClient(port);
    client.socket.write(get('/slow') + get('/fast') + get('/last', 'Connection: close\r\n'));
    await client.closed;
    const bodies = [...client.received().matchAll(/answer to (\/\w+)/g)].map((m) => m[1]);
    expect(bodies).toEqual(['/slow', '/fast', '/last']);
    expect(client.received().match(/HTTP\/1\.1 200/g)).toHaveLength(3);
  });

  it('answers an HTTP/1.0 client without chunked encoding, closing the connection to end the body', async () => {
    const { port } = await proxyTo((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('streamed ');
      setTimeout(() => res.end('without a length'), 20);
    });
    const client = await rawClient(port);
    client.socket.write('GET / HTTP/1.0\r\nHost: app.localhost\r\n\r\n');
    await client.closed;
    const [head, body] = client.received().split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/\r\nConnection: close/i);
    expect(head).not.toMatch(/transfer-encoding/i);
    expect(body).toBe('streamed without a length');
  });

  it('keeps an HTTP/1.0 connection that asks for keep-alive, when the body has a length', async () => {
    const { port } = await proxyTo((req, res) => {
      const body = `"url":"${req.url}"`;
      res.writeHead(200, { 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    const client = await rawClient(port);
    client.socket.write(
      'GET /one HTTP/1.0\r\nHost: app.localhost\r\nConnection: keep-alive\r\n\r\n',
    );
    await until(() => client.received().includes('"url":"/one"'), 'first answer');
    expect(client.received()).toMatch(/\r\nConnection: keep-alive\r\n/i);
    client.socket.write('GET /two HTTP/1.0\r\nHost: app.localhost\r\n\r\n');
    await client.closed;
    expect(client.received()).toContain('"url":"/two"');
  });

  it('says 100 Continue to a client that expects it, then relays its body', async () => {
    const { port } = await proxyTo();
    const client = await rawClient(port);
    client.socket.write(
      'POST /upload HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
    );
    await until(
      () => client.received().startsWith('HTTP/1.1 100 Continue\r\n\r\n'),
      '100 Continue',
    );
    client.socket.write('hello');
    await client.closed;
    expect(client.received()).toMatch(/HTTP\/1\.1 200 OK/);
    expect(client.received()).toContain('"body":"hello"');
  });

  it('refuses malformed and ambiguous requests with 400, and closes the connection', async () => {
    const { port, backend } = await proxyTo();
    for (const bad of [
      'GET / HTTP/1.1\r\nHost app.localhost\r\n\r\n',
      // Request smuggling: two framings for one body.
      'POST / HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    ]) {
      const client = await rawClient(port);
      client.socket.write(bad);
      await client.closed;
      expect(client.received()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(client.received()).toMatch(/\r\nConnection: close\r\n/);
    }
    expect(backend.seen).toHaveLength(0);
  });

  it('answers 431 to a request head that is too large', async () => {
    const { port } = await proxyTo();
    const client = await rawClient(port);
    client.socket.write(get('/', `X-Big: ${'x'.repeat(20_000)}\r\n`));
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('answers 405 to CONNECT', async () => {
    const { port } = await proxyTo();
    const client = await rawClient(port);
    client.socket.write('CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n');
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 405 /);
  });

  it('times out a request head that arrives too slowly, and an idle kept-alive connection', async () => {
    const { port } = await proxyTo(undefined, { headersTimeoutMs: 200, keepAliveTimeoutMs: 300 });
    const slow = await rawClient(port);
    slow.socket.write('GET / HTTP/1.1\r\nHost: app.lo');
    await slow.closed;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);

    const idle = await rawClient(port);
    idle.socket.write(get('/'));
    await until(() => idle.received().includes('"url":"/"'), 'an answer');
    await idle.closed;
  });

  it('passes every X-Forwarded-For value on, joined, with the client added', async () => {
    const { port, backend } = await proxyTo();
    const client = await rawClient(port);
    client.socket.write(
      get(
        '/',
        'X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-For: 198.51.100.2\r\nConnection: close\r\n',
      ),
    );
    await client.closed;
    expect(backend.seen[0]?.headers['x-forwarded-for']).toBe(
      '203.0.113.7, 198.51.100.2, 127.0.0.1',
    );
  });
});
