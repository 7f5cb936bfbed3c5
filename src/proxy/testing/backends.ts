import type {
  Agent,
  IncomingHttpHeaders,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Endpoint, RegistrySnapshot, Route } from '../../registry/index.js';

/** A real HTTP backend on port 0; by default it answers with what it received. */
export interface TestBackend {
  readonly name: string;
  readonly port: number;
  readonly server: Server;
  /** Requests it received. */
  readonly seen: { method: string; url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export async function startBackend(name: string, handler?: Handler): Promise<TestBackend> {
  const seen: TestBackend['seen'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const body = Buffer.concat(chunks);
      if (handler) return handler(req, res, body);
      const json = JSON.stringify({
        backend: name,
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: body.toString(),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
      res.end(json);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    server,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function endpoint(
  b: { name: string; port: number },
  extra: Partial<Endpoint> = {},
): Endpoint {
  return {
    stack: 's',
    service: 'web',
    instance: b.name,
    address: '127.0.0.1',
    port: b.port,
    revision: 'r1',
    weight: 1,
    healthy: true,
    ...extra,
  };
}

export function route(extra: Partial<Route> = {}): Route {
  return { stack: 's', name: 'main', path: '/', service: 'web', ...extra };
}

let revision = 1;
export function snapshot(routes: Route[], endpoints: Endpoint[]): RegistrySnapshot {
  return { revision: revision++, routes, endpoints };
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request through the proxy (Node's client, keep-alive when an agent is given). */
export function send(
  port: number,
  options: {
    path?: string;
    host?: string;
    method?: string;
    headers?: Record<string, string | string[]>;
    body?: Buffer | string;
    agent?: Agent;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        headers: { host: options.host ?? 'app.localhost', ...options.headers },
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
