import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP backend on 127.0.0.1, port 0, answering every request with its id. */
export interface Backend {
  readonly id: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startBackend(id: string): Promise<Backend> {
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(id) });
    res.end(id);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    id,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
