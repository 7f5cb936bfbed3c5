import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';

import { jsonLinesAccessLog } from './access-log.js';
import { Proxy } from './proxy.js';
import type { TestBackend } from './testing/backends.js';
import { endpoint, route, send, snapshot, startBackend } from './testing/backends.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function proxyWith(
  options: ConstructorParameters<typeof Proxy>[0] = {},
): Promise<{ proxy: Proxy; port: number }> {
  const proxy = new Proxy({ port: 0, ...options });
  const { port } = await proxy.listen();
  cleanup.push(() => proxy.close());
  return { proxy, port };
}

async function backend(
  name: string,
  handler?: Parameters<typeof startBackend>[1],
): Promise<TestBackend> {
  const b = await startBackend(name, handler);
  cleanup.push(() => b.close());
  return b;
}

const json = (
  body: string,
): { backend: string; url: string; headers: Record<string, string>; body: string } =>
  JSON.parse(body) as {
    backend: string;
    url: string;
    headers: Record<string, string>;
    body: string;
  };

describe('routing', () => {
  it('routes by exact host, wildcard host and path prefix, and says when nothing matches', async () => {
    const [a, b, c] = await Promise.all([backend('a'), backend('b'), backend('c')]);
    const { proxy, port } = await proxyWith();
    proxy.update(
      snapshot(
        [
          route({ name: 'a', host: 'app.localhost', service: 'a' }),
          route({ name: 'b', host: '*.apps.localhost', service: 'b' }),
          route({ name: 'c', path: '/api', service: 'c' }),
        ],
        [
          endpoint(a, { service: 'a' }),
          endpoint(b, { service: 'b' }),
          endpoint(c, { service: 'c' }),
        ],
      ),
    );
    expect(json((await send(port, { host: 'app.localhost' })).body).backend).toBe('a');
    expect(json((await send(port, { host: 'x.apps.localhost:8080' })).body).backend).toBe('b');
    expect(json((await send(port, { host: 'other', path: '/api/v1' })).body).backend).toBe('c');
    const none = await send(port, { host: 'other', path: '/web' });
    expect(none.status).toBe(404);
    expect(none.body).toBe('404 Not Found: no route for other/web\n');
  });

  it('answers 503 when a route has no healthy backend', async () => {
    const a = await backend('a');
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(a, { healthy: false })]));
    const reply = await send(port);
    expect(reply.status).toBe(503);
    expect(reply.body).toContain('no healthy backend for s/web');
  });

  it('matches and forwards the normalised path, so encoded tricks cannot reach another route', async () => {
    const pub = await backend('public');
    const admin = await backend('admin');
    const { proxy, port } = await proxyWith();
    proxy.update(
      snapshot(
        [
          route({ name: 'pub', path: '/public', service: 'pub' }),
          route({ name: 'admin', path: '/admin', service: 'admin' }),
        ],
        [endpoint(pub, { service: 'pub' }), endpoint(admin, { service: 'admin' })],
      ),
    );
    const dotted = json((await send(port, { path: '/public/%2e%2e/admin/x' })).body);
    expect(dotted).toMatchObject({ backend: 'admin', url: '/admin/x' });
    const slashed = await send(port, { path: '/public/..%2Fadmin' });
    expect(json(slashed.body)).toMatchObject({ backend: 'public', url: '/public/..%2Fadmin' });
    expect((await send(port, { path: '/public/a\\..\\..\\admin' })).status).toBe(400);
    expect((await send(port, { path: '/public/%5c..%5cadmin' })).status).toBe(400);
    expect(json((await send(port, { path: '//admin//y?z=1' })).body)).toMatchObject({
      backend: 'admin',
      url: '/admin/y?z=1',
    });
  });
});

describe('headers', () => {
  it('sets X-Forwarded-For/-Proto/-Host and removes hop-by-hop headers, including those named in Connection', async () => {
    const a = await backend('a', (req, res) => {
      res.writeHead(200, {
        connection: 'keep-alive, x-upstream-secret',
        'x-upstream-secret': 'hop',
        'keep-alive': 'timeout=5',
        'x-end-to-end': 'yes',
        'content-type': 'application/json',
      });
      res.end(JSON.stringify(req.headers));
    });
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(a)]));
    const reply = await send(port, {
      headers: {
        connection: 'x-client-secret',
        'x-client-secret': 'hop',
        'keep-alive': '300',
        'proxy-connection': 'keep-alive',
        te: 'trailers',
        'x-forwarded-for': '203.0.113.7',
        'x-kept': 'yes',
      },
    });
    const seen = JSON.parse(reply.body) as Record<string, string>;
    expect(seen['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('app.localhost');
    expect(seen['host']).toBe('app.localhost');
    expect(seen['x-kept']).toBe('yes');
    for (const gone of ['x-client-secret', 'keep-alive', 'proxy-connection', 'te'])
      expect(seen[gone]).toBeUndefined();
    expect(reply.headers['x-upstream-secret']).toBeUndefined();
    expect(reply.headers['keep-alive']).not.toBe('timeout=5');
    expect(reply.headers['x-end-to-end']).toBe('yes');
  });
});

describe('bodies', () => {
  it('streams large request and response bodies both ways, chunked or with a length', async () => {
    const a = await backend('echo', (req, res, body) => {
      res.writeHead(200, {
        'x-received': String(body.length),
        'x-te': req.headers['transfer-encoding'] ?? '',
      });
      // Write the response in pieces so it goes out chunked.
      for (let i = 0; i < body.length; i += 65536) res.write(body.subarray(i, i + 65536));
      res.end();
    });
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(a)]));
    const payload = Buffer.alloc(3 * 1024 * 1024, 'x');
    const withLength = await send(port, { method: 'POST', body: payload });
    expect(withLength.headers['x-received']).toBe(String(payload.length));
    expect(withLength.body.length).toBe(payload.length);

    const chunked = await new Promise<{ received: string; te: string; length: number }>(
      (resolve, reject) => {
        const stream = new PassThrough();
        import('node:http').then(({ request }) => {
          const req = request(
            {
              host: '127.0.0.1',
              port,
              method: 'PUT',
              path: '/',
              headers: { host: 'app.localhost', 'transfer-encoding': 'chunked' },
            },
            (res) => {
              let length = 0;
              res.on('data', (c: Buffer) => (length += c.length));
              res.on('end', () =>
                resolve({
                  received: String(res.headers['x-received']),
                  te: String(res.headers['x-te']),
                  length,
                }),
              );
            },
          );
          req.on('error', reject);
          stream.pipe(req);
          for (let i = 0; i < 20; i++) stream.write(Buffer.alloc(10_000, 'y'));
          stream.end();
        }, reject);
      },
    );
    expect(chunked).toEqual({ received: '200000', te: 'chunked', length: 200_000 });
  });

  it('handles HEAD and bodyless statuses', async () => {
    const a = await backend('a', (req, res) => {
      if (req.url === '/empty') {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(200, { 'content-length': '11' });
      res.end(req.method === 'HEAD' ? undefined : 'hello there');
    });
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(a)]));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => agent.destroy());
    expect(await send(port, { method: 'HEAD', agent })).toMatchObject({ status: 200, body: '' });
    expect(await send(port, { path: '/empty', agent })).toMatchObject({ status: 204, body: '' });
    expect(await send(port, { agent })).toMatchObject({ status: 200, body: 'hello there' });
  });
});

describe('selection', () => {
  it('splits traffic between revisions by weight', async () => {
    const stable = await backend('stable');
    const canary = await backend('canary');
    const { proxy, port } = await proxyWith();
    proxy.update(
      snapshot(
        [route()],
        [
          endpoint(stable, { revision: 'r1', weight: 90 }),
          endpoint(canary, { revision: 'r2', weight: 10 }),
        ],
      ),
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    cleanup.push(() => agent.destroy());
    const counts = { stable: 0, canary: 0 };
    for (let i = 0; i < 1000; i++)
      counts[json((await send(port, { agent })).body).backend as 'stable' | 'canary']++;
    expect(counts.canary).toBeGreaterThan(50);
    expect(counts.canary).toBeLessThan(160);
    const metrics = proxy.metrics.snapshot();
    expect(metrics.find((m) => m.labels.revision === 'r2')?.requests).toBe(counts.canary);
  });

  it('sends new requests to the backend with the fewest in flight', async () => {
    const slow = await backend('slow', (_req, res) =>
      setTimeout(() => res.end(JSON.stringify({ backend: 'slow' })), 300),
    );
    const fast = await backend('fast');
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(slow), endpoint(fast)]));
    const replies = await Promise.all(Array.from({ length: 20 }, () => send(port)));
    const slowCount = replies.filter((r) => json(r.body).backend === 'slow').length;
    expect(slowCount).toBeLessThanOrEqual(2);
  });
});

describe('failures', () => {
  it('retries on another backend when a connection is refused, and stops using the refusing one', async () => {
    const good = await backend('good');
    const gone = await backend('gone');
    await gone.close();
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(gone), endpoint(good)]));
    for (let i = 0; i < 10; i++) expect(json((await send(port)).body).backend).toBe('good');
    expect(good.seen).toHaveLength(10);
  });

  it('answers 502 when every backend refuses', async () => {
    const gone = await backend('gone');
    await gone.close();
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(gone)]));
    const reply = await send(port);
    expect(reply.status).toBe(502);
    expect(reply.body).toContain('could not connect to any backend of s/web');
  });

  it('does not retry once the request was sent: a backend that drops it gives 502', async () => {
    let calls = 0;
    const dropper = await backend('dropper', (req) => {
      calls++;
      req.socket.destroy();
    });
    const other = await backend('other');
    const { proxy, port } = await proxyWith();
    proxy.update(
      snapshot(
        [route()],
        [
          endpoint(dropper, { revision: 'x', weight: 1 }),
          endpoint(other, { revision: 'y', weight: 0 }),
        ],
      ),
    );
    const reply = await send(port, { method: 'POST', body: 'once' });
    expect(reply.status).toBe(502);
    expect(calls).toBe(1);
    expect(other.seen).toHaveLength(0);
  });

  it('sends an idempotent request without a body again elsewhere when its backend drops it unanswered', async () => {
    let drops = 0;
    const dropper = await backend('dropper', (req) => {
      drops++;
      req.socket.destroy();
    });
    const other = await backend('other');
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(dropper), endpoint(other)]));
    for (let i = 0; i < 6; i++) {
      const reply = await send(port);
      expect(reply.status).toBe(200);
      expect(json(reply.body).backend).toBe('other');
    }
    expect(drops).toBeGreaterThan(0);
    expect(other.seen).toHaveLength(6);
  });

  it('answers 502 when an idempotent request was dropped by every backend', async () => {
    let drops = 0;
    const dropper = await backend('dropper', (req) => {
      drops++;
      req.socket.destroy();
    });
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(dropper)]));
    const reply = await send(port);
    expect(reply.status).toBe(502);
    expect(drops).toBe(1);
  });

  it('answers 504 when a backend does not answer in time', async () => {
    const stuck = await backend('stuck', () => undefined);
    const { proxy, port } = await proxyWith({ responseTimeoutMs: 300 });
    proxy.update(snapshot([route()], [endpoint(stuck)]));
    const reply = await send(port);
    expect(reply.status).toBe(504);
    expect(reply.body).toBe('504 Gateway Timeout: upstream did not answer within 300 ms\n');
  });

  it('refuses a response with conflicting framing rather than guess', async () => {
    const liar = await backend('liar', (req) => {
      req.socket.end(
        'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      );
    });
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(liar)]));
    const reply = await send(port);
    expect(reply.status).toBe(502);
    expect(reply.body).toContain('both Content-Length and chunked');
  });

  it('reassembles responses that arrive in pieces while other responses are read in between', async () => {
    // Upstream reads share one buffer: a piece kept for later must not be overwritten by the next read.
    const pieces = [
      'HTTP/1.1 200 OK\r\nContent-Le',
      'ngth: 11\r\nX-Piece: ye',
      's\r\n\r\nhello',
      ' world',
    ];
    const chunkedPieces = [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
      '5\r\nchu',
      'nk\r\n',
      '1',
      '\r\ns\r\n0\r\n',
      '\r\n',
    ];
    const slow = await backend('slow', (req) => {
      const list = req.url === '/chunked' ? chunkedPieces : pieces;
      void (async () => {
        for (const piece of list) {
          req.socket.write(piece);
          await sleep(30);
        }
      })();
    });
    const fast = await backend('fast', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(2000));
    });
    const { proxy, port } = await proxyWith();
    proxy.update(
      snapshot(
        [
          route({ name: 'slow', path: '/', service: 'slow' }),
          route({ name: 'fast', path: '/fast', service: 'fast' }),
        ],
        [endpoint(slow, { service: 'slow' }), endpoint(fast, { service: 'fast' })],
      ),
    );
    let busy = true;
    const noise = (async () => {
      while (busy) expect((await send(port, { path: '/fast' })).body).toBe('x'.repeat(2000));
    })();
    const [plain, chunked] = await Promise.all([
      send(port, { path: '/plain' }),
      send(port, { path: '/chunked' }),
    ]);
    busy = false;
    await noise;
    expect(plain).toMatchObject({ status: 200, body: 'hello world' });
    expect(plain.headers['x-piece']).toBe('yes');
    expect(chunked).toMatchObject({ status: 200, body: 'chunks' });
  });
});

describe('draining and pool switches', () => {
  it('a backend leaving the pool gets no new requests and finishes the ones in flight', async () => {
    const old = await backend('old', (_req, res) =>
      setTimeout(() => res.end(JSON.stringify({ backend: 'old' })), 500),
    );
    const next = await backend('next');
    const { proxy, port } = await proxyWith({ drainTimeoutMs: 5000 });
    proxy.update(snapshot([route()], [endpoint(old)]));
    const inFlight = send(port);
    await sleep(100);
    proxy.update(snapshot([route()], [endpoint(next)]));
    expect(json((await send(port)).body).backend).toBe('next');
    expect(proxy.stats().draining).toBe(1);
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect(json(finished.body).backend).toBe('old');
    await sleep(150);
    expect(proxy.stats().draining).toBe(0);
  });

  it('cuts requests that outlast the drain timeout', async () => {
    const slow = await backend('slow', (_req, res) => setTimeout(() => res.end('late'), 2000));
    const { proxy, port } = await proxyWith({ drainTimeoutMs: 200 });
    proxy.update(snapshot([route()], [endpoint(slow)]));
    const inFlight = send(port).then(
      (r) => r.status,
      () => 'cut',
    );
    await sleep(100);
    proxy.update(snapshot([route()], []));
    expect(await inFlight).not.toBe(200);
  });

  it('loses no request while pools are switched under load', async () => {
    const backends = await Promise.all(['b0', 'b1', 'b2', 'b3'].map((n) => backend(n)));
    const { proxy, port } = await proxyWith({ drainTimeoutMs: 5000 });
    proxy.update(
      snapshot(
        [route()],
        [endpoint(backends[0] as TestBackend), endpoint(backends[1] as TestBackend)],
      ),
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    cleanup.push(() => agent.destroy());
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const worker = async (): Promise<void> => {
      while (!stop) {
        try {
          const reply = await send(port, { agent });
          if (reply.status === 200) ok++;
          else failures.push(`status ${reply.status}: ${reply.body}`);
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const workers = Array.from({ length: 16 }, () => worker());
    for (let i = 0; i < 20; i++) {
      await sleep(50);
      const pair = i % 2 === 0 ? [backends[2], backends[3]] : [backends[0], backends[1]];
      proxy.update(
        snapshot(
          [route()],
          pair.map((b) => endpoint(b as TestBackend, { revision: `r${i}` })),
        ),
      );
    }
    stop = true;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(200);
  });
});

describe('WebSocket', () => {
  it('upgrades and relays frames both ways', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    cleanup.push(() => new Promise((resolve) => wss.close(resolve)));
    wss.on('connection', (socket, req) => {
      socket.send(`hello ${req.headers['x-forwarded-for']}`);
      socket.on('message', (data) => socket.send(`echo ${data.toString()}`));
    });
    const { proxy, port } = await proxyWith();
    proxy.update(
      snapshot(
        [route({ path: '/ws' })],
        [endpoint({ name: 'ws', port: (wss.address() as AddressInfo).port })],
      ),
    );
    const client = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      headers: { host: 'app.localhost' },
    });
    cleanup.push(() => client.terminate());
    const messages: string[] = [];
    client.on('message', (data) => messages.push(data.toString()));
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    client.send('ping');
    client.send(Buffer.alloc(100_000, 'z').toString());
    const deadline = Date.now() + 5000;
    while (messages.length < 3 && Date.now() < deadline) await sleep(20);
    expect(messages[0]).toBe('hello 127.0.0.1');
    expect(messages[1]).toBe('echo ping');
    expect(messages[2]?.length).toBe(100_005);
  });

  it('passes on a refusal to upgrade', async () => {
    const plain = await backend('plain', (_req, res) => res.writeHead(400).end('no upgrades here'));
    const { proxy, port } = await proxyWith();
    proxy.update(snapshot([route()], [endpoint(plain)]));
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'GET / HTTP/1.1\r\nHost: app.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
      });
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => socket.destroy(), 1000);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('no upgrades here');
  });
});

describe('measurements', () => {
  it('counts requests by status class and times them per revision, in-process and for Prometheus', async () => {
    const a = await backend('a', (req, res) => {
      res.writeHead(req.url === '/fail' ? 500 : 200).end('x');
    });
    const logged = new PassThrough();
    const lines: string[] = [];
    logged.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
    const { log, close } = jsonLinesAccessLog(logged);
    const { proxy, port } = await proxyWith({ accessLog: log });
    cleanup.push(() => close());
    proxy.update(snapshot([route()], [endpoint(a, { revision: 'rev-a' })]));
    for (let i = 0; i < 9; i++) await send(port);
    await send(port, { path: '/fail' });
    const recent = proxy.metrics.recent('s/web', 'rev-a', 60);
    expect(recent).toMatchObject({ requests: 10, errors5xx: 1, errorRate: 0.1 });
    expect(recent.p99Ms).toBeGreaterThan(0);
    const text = proxy.metrics.prometheus();
    expect(text).toContain(
      'drover_proxy_requests_total{route="s/main",service="s/web",revision="rev-a",instance="a",code="2xx"} 9',
    );
    expect(text).toContain(
      'drover_proxy_requests_total{route="s/main",service="s/web",revision="rev-a",instance="a",code="5xx"} 1',
    );
    expect(text).toMatch(
      /drover_proxy_request_duration_seconds_count\{[^}]*revision="rev-a"[^}]*\} 10/,
    );
    await sleep(20);
    expect(lines).toHaveLength(10);
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({
      status: 500,
      path: '/fail',
      revision: 'rev-a',
      instance: 'a',
      route: 's/main',
    });
  });
});
