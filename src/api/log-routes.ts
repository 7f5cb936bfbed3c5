import { logsQuery, parse, servicePath } from './input.js';
import { lineStream } from './ndjson.js';
import type { Route } from './route.js';

export const logRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/stacks/:stack/services/:service/logs',
    role: 'viewer',
    summary: "a service's output merged across its instances; ?follow=1 keeps it open",
    input: { path: servicePath, query: logsQuery },
    output: {
      type: 'ndjson',
      description:
        '{ instance, stream, line, at? } per line (secrets redacted); { error } last on a failure',
    },
    handle: async (c, { engine, failure, heartbeatMs }) => {
      const { stack, service } = parse(servicePath, c.req.param(), 'path');
      const { follow, tail } = parse(logsQuery, c.req.query(), 'query');
      // The engine's iteration ends when the client goes away (or, without follow, by itself).
      const stop = new AbortController();
      const lines = await engine.logs(stack, service, {
        follow: follow ?? false,
        ...(tail === undefined ? {} : { tail }),
        signal: stop.signal,
      });
      return lineStream(lines, { stop, signal: c.req.raw.signal, failure, heartbeatMs });
    },
  },
];
