import type { Socket } from 'node:net';

import type { ClientRequest } from './client.js';
import { connectionListed } from './headers.js';
import type { Backend } from './pool.js';

const DROPPED = new Set([
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'proxy-connection',
  'keep-alive',
]);

/**
 * A protocol upgrade (WebSocket): the request goes to the backend on a
 * connection of its own, and once the backend switches protocols (101) the
 * two connections are joined byte for byte until either side closes. A
 * backend that answers anything else has that answer passed on.
 */
export function proxyUpgrade(options: {
  req: ClientRequest;
  client: Socket;
  head: Buffer;
  backend: Backend;
  path: string;
  refuse: (status: number, message: string) => void;
}): void {
  const { req, client, head, backend, path, refuse } = options;
  backend.outstanding++;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    backend.outstanding--;
  };
  backend.dedicated((error, connection) => {
    if (error !== undefined || connection === undefined) {
      release();
      backend.eject(Date.now());
      return refuse(502, `could not connect to ${backend.endpoint.instance}`);
    }
    const upstream = connection.socket;
    // Upgrade and Connection are hop-by-hop, but they are the request here: keep them.
    const listed = connectionListed(req.rawHeaders);
    const host = req.header('host') ?? '';
    let text = `${req.method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] as string;
      const lower = name.toLowerCase();
      if (DROPPED.has(lower) || (listed.has(lower) && lower !== 'upgrade')) continue;
      text += `${name}: ${req.rawHeaders[i + 1]}\r\n`;
    }
    const forwardedFor = req.joined('x-forwarded-for');
    const remote = req.connection.remoteAddress;
    text += `X-Forwarded-For: ${forwardedFor ? `${forwardedFor}, ${remote}` : remote}\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: ${host}\r\n\r\n`;
    upstream.write(text, 'latin1');
    if (head.length > 0) upstream.write(head);

    const close = (): void => {
      client.destroy();
      upstream.destroy();
      release();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);

    // Pass the backend's answer through as it is: a 101 and then the new protocol, or anything else.
    upstream.pipe(client);
    client.pipe(upstream);
  });
}
