import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';

import type { ApiEnv } from './auth.js';
import { ListenError } from './errors.js';

export interface ListenOptions {
  /** Loopback by default: the API is reached from elsewhere only by choice. */
  readonly host?: string;
  /** 0 picks a free port (tests). */
  readonly port?: number;
}

export interface ApiServer {
  readonly address: { readonly host: string; readonly port: number; readonly url: string };
  /** Stops listening and ends open connections (event streams included). */
  close(): Promise<void>;
}

export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_API_PORT = 7070;

/** Serves the API over HTTP/1.1 with Node's own server. */
export async function startApiServer(
  app: Hono<ApiEnv>,
  options: ListenOptions = {},
): Promise<ApiServer> {
  const host = options.host ?? DEFAULT_API_HOST;
  const port = options.port ?? DEFAULT_API_PORT;
  const server = createAdaptorServer({
    fetch: app.fetch,
    createServer,
    // The daemon's other parts use fetch too: leave the global Request/Response alone.
    overrideGlobalObjects: false,
  }) as ReturnType<typeof createServer>;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void =>
      reject(new ListenError(`${host}:${port}`, { cause: error }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    address: { host: bound.address, port: bound.port, url: `http://${urlHost}:${bound.port}` },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Event streams never end by themselves; idle keep-alive sockets would hold close() too.
        server.closeAllConnections();
      }),
  };
}
