import type { Context } from 'hono';
import type { z } from 'zod';

import type { Engine, StackStatus } from '../engine/types.js';

import type { ApiEnv } from './auth.js';
import type { ErrorBody } from './errors.js';
import { NotFoundError } from './errors.js';
import { jsonBody, parse } from './input.js';
import type { Role, TokenStore } from './tokens.js';

export interface RouteDeps {
  readonly engine: Engine;
  /** The API's tokens (the token routes manage them). */
  readonly tokens: TokenStore;
  /** Maps (and logs) a failure that happens after the response has started. */
  readonly failure: (error: unknown) => ErrorBody;
  readonly heartbeatMs?: number;
  readonly maxBodyBytes: number;
  /** The daemon's metrics in the Prometheus text format (`/metrics`). */
  readonly metrics?: () => Promise<string>;
}

/** What a route answers on success, for the OpenAPI document. */
export interface RouteOutput {
  /** 200 unless said otherwise. */
  readonly status?: 200 | 201;
  /** `ndjson`: one JSON value per line (empty lines are keep-alives); `sse`: Server-Sent Events. */
  readonly type: 'json' | 'ndjson' | 'sse' | 'prometheus';
  readonly description: string;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  /** The least role that may call it: the one place where access is decided. */
  readonly role: Role;
  /** One line for people (the OpenAPI document's summary). */
  readonly summary?: string;
  /** The schemas the handler parses its input with; the OpenAPI document shows them. */
  readonly input?: {
    readonly path?: z.ZodObject;
    readonly query?: z.ZodObject;
    readonly body?: z.ZodType;
  };
  readonly output?: RouteOutput;
  readonly handle: (c: Context<ApiEnv>, deps: RouteDeps) => Promise<Response>;
}

/** The actor of a call: its token's name. */
export const who = (c: Context<ApiEnv>): string => c.get('token').name;

/** The stack's status; NOT_FOUND when no stack of that name is applied (or it was destroyed). */
export async function knownStack(engine: Engine, stack: string): Promise<StackStatus> {
  const found = (await engine.stacks()).find((s) => s.stack === stack);
  if (found === undefined) throw new NotFoundError(`no stack '${stack}'`);
  return found;
}

/** The request body, parsed with `schema` (see jsonBody for its limits). */
export async function readBody<T extends z.ZodType>(
  c: Context<ApiEnv>,
  deps: RouteDeps,
  schema: T,
): Promise<z.output<T>> {
  return parse(schema, await jsonBody(c.req.raw, deps.maxBodyBytes), 'body');
}
