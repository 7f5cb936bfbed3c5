import type { Context } from 'hono';
import { Hono } from 'hono';

import type { Engine } from '../engine/types.js';
import { dashboard } from '../ui/index.js';

import type { ApiEnv, AuditEntry } from './auth.js';
import { audited, authorize } from './auth.js';
import type { ErrorBody } from './errors.js';
import { errorResponse, NotFoundError } from './errors.js';
import { routes } from './routes.js';
import type { TokenInfo, TokenStore } from './tokens.js';

/** One request, for the daemon's log. */
export interface ApiLogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Until the response started (streams go on after it). */
  readonly durationMs: number;
  readonly who?: string;
  /** A failure of ours (status 500), with its stack: it is never sent to the client. */
  readonly error?: unknown;
}

export interface ApiOptions {
  readonly engine: Engine;
  readonly auth: TokenStore;
  readonly log?: (entry: ApiLogEntry) => void;
  /** Every mutating call with a valid token; the engine records it as an event. */
  readonly audit?: (entry: AuditEntry) => void;
  /** Plans and parameters are small; a larger body is a mistake or an attack. */
  readonly maxBodyBytes?: number;
  /** Keep-alives on idle streams (NDJSON and SSE); default 15 s. */
  readonly heartbeatMs?: number;
  /** What `GET /metrics` serves (Prometheus text); without it, an empty exposition. */
  readonly metrics?: () => Promise<string>;
}

/** The daemon's REST API: see README.md for the routes and their roles. */
export function createApi(options: ApiOptions): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const tokenOf = (c: Context<ApiEnv>): TokenInfo | undefined =>
    c.get('token') as TokenInfo | undefined;

  const log = (c: Context<ApiEnv>, status: number, durationMs: number, error?: unknown): void => {
    const who = tokenOf(c)?.name;
    options.log?.({
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs,
      ...(who === undefined ? {} : { who }),
      ...(error === undefined ? {} : { error }),
    });
  };

  app.use('*', async (c, next) => {
    const start = performance.now();
    await next();
    const unexpected = c.error !== undefined && errorResponse(c.error).unexpected;
    log(c, c.res.status, Math.round(performance.now() - start), unexpected ? c.error : undefined);
  });

  app.get('/healthz', (c) => c.json({ ok: true }));
  // The dashboard's files hold no data: no token to load them, every API call the page makes sends one.
  const ui = dashboard();
  app.get('/', (c) => c.redirect('/ui/'));
  app.get(
    '/ui/*',
    (c) => ui.respond(c.req.path) ?? reply(c, new NotFoundError(`no file ${c.req.path}`)),
  );
  for (const route of routes) {
    app.on(
      route.method,
      route.path,
      audited(options.audit),
      authorize(options.auth, route.role),
      (c) => {
        // After the response has started, a failure can only be told in the stream.
        const failure = (error: unknown): ErrorBody => {
          const mapped = errorResponse(error);
          if (mapped.unexpected) log(c, mapped.status, 0, error);
          return mapped.body;
        };
        return route.handle(c, {
          engine: options.engine,
          tokens: options.auth,
          failure,
          heartbeatMs: options.heartbeatMs,
          maxBodyBytes,
          metrics: options.metrics,
        });
      },
    );
  }

  app.notFound((c) => reply(c, new NotFoundError(`no route ${c.req.method} ${c.req.path}`)));
  app.onError((error, c) => reply(c, error));
  return app;
}

function reply(c: Context, error: unknown): Response {
  const { status, body } = errorResponse(error);
  if (status === 401) c.header('WWW-Authenticate', 'Bearer');
  return c.json(body, status);
}
