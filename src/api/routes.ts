import type { Context } from 'hono';
import type { z } from 'zod';

import type { Engine, StackStatus } from '../engine/types.js';

import type { ApiEnv } from './auth.js';
import type { ErrorBody } from './errors.js';
import { NotFoundError } from './errors.js';
import {
  driftQuery,
  eventsQuery,
  instancesQuery,
  jsonBody,
  lastEventId,
  parameterInputs,
  parse,
  resourcePath,
  servicePath,
  serviceRollbackBody,
  stackPath,
  stackRequestBody,
  stackRollbackBody,
} from './input.js';
import type { Operation } from './ndjson.js';
import { progressResponse } from './ndjson.js';
import { sseResponse } from './sse.js';
import type { Role } from './tokens.js';

export interface RouteDeps {
  readonly engine: Engine;
  /** Maps (and logs) a failure that happens after the response has started. */
  readonly failure: (error: unknown) => ErrorBody;
  readonly heartbeatMs?: number;
  readonly maxBodyBytes: number;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  /** The least role that may call it: the one place where access is decided. */
  readonly role: Role;
  readonly handle: (c: Context<ApiEnv>, deps: RouteDeps) => Promise<Response>;
}

const who = (c: Context<ApiEnv>): string => c.get('token').name;

const progress = (deps: RouteDeps, run: Operation): Promise<Response> =>
  progressResponse(run, { failure: deps.failure, heartbeatMs: deps.heartbeatMs });

/** The stack's status; NOT_FOUND when no stack of that name is applied (or it was destroyed). */
const knownStack = async (engine: Engine, stack: string): Promise<StackStatus> => {
  const found = (await engine.stacks()).find((s) => s.stack === stack);
  if (found === undefined) throw new NotFoundError(`no stack '${stack}'`);
  return found;
};

const readBody = async <T extends z.ZodType>(
  c: Context<ApiEnv>,
  deps: RouteDeps,
  schema: T,
): Promise<z.output<T>> => parse(schema, await jsonBody(c.req.raw, deps.maxBodyBytes), 'body');

/**
 * Every authenticated route, 1:1 with an Engine method. Handlers only parse,
 * call the engine once (after checking that a stack named in a query exists)
 * and shape the answer; `/healthz` is the one route without auth and lives
 * in app.ts.
 */
export const routes: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/stacks',
    role: 'viewer',
    handle: async (c, { engine }) => c.json(await engine.stacks()),
  },
  {
    method: 'GET',
    path: '/api/stacks/:stack',
    role: 'viewer',
    handle: async (c, { engine }) => {
      const { stack } = parse(stackPath, c.req.param(), 'path');
      return c.json(await knownStack(engine, stack));
    },
  },
  {
    method: 'POST',
    path: '/api/stacks/plan',
    role: 'deployer',
    handle: async (c, deps) => {
      const body = await readBody(c, deps, stackRequestBody);
      const parameters = parameterInputs(body.parameters);
      return c.json(await deps.engine.plan({ ...body, parameters }));
    },
  },
  {
    method: 'POST',
    path: '/api/stacks/apply',
    role: 'deployer',
    handle: async (c, deps) => {
      const body = await readBody(c, deps, stackRequestBody);
      const request = { ...body, parameters: parameterInputs(body.parameters), who: who(c) };
      return progress(deps, (onProgress) => deps.engine.apply(request, onProgress));
    },
  },
  {
    method: 'DELETE',
    path: '/api/stacks/:stack',
    role: 'deployer',
    handle: async (c, deps) => {
      const { stack } = parse(stackPath, c.req.param(), 'path');
      return progress(deps, (onProgress) => deps.engine.destroy(stack, who(c), onProgress));
    },
  },
  {
    method: 'GET',
    path: '/api/instances',
    role: 'viewer',
    handle: async (c, { engine }) =>
      c.json(await engine.instances(parse(instancesQuery, c.req.query(), 'query'))),
  },
  {
    method: 'GET',
    path: '/api/drift',
    role: 'viewer',
    handle: async (c, { engine }) => {
      const { stack } = parse(driftQuery, c.req.query(), 'query');
      // The engine would scan nothing for a mistyped name; say so, as `status NAME` does.
      if (stack !== undefined) await knownStack(engine, stack);
      return c.json(await engine.drift(stack === undefined ? {} : { stack }));
    },
  },
  {
    method: 'GET',
    path: '/api/stacks/:stack/resources/:resource/history',
    role: 'viewer',
    handle: async (c, { engine }) => {
      const { stack, resource } = parse(resourcePath, c.req.param(), 'path');
      return c.json(await engine.history(stack, resource));
    },
  },
  {
    method: 'GET',
    path: '/api/stacks/:stack/history',
    role: 'viewer',
    handle: async (c, { engine }) => {
      const { stack } = parse(stackPath, c.req.param(), 'path');
      return c.json(await engine.stackHistory(stack));
    },
  },
  {
    method: 'POST',
    path: '/api/stacks/:stack/services/:service/rollback',
    role: 'deployer',
    handle: async (c, deps) => {
      const { stack, service } = parse(servicePath, c.req.param(), 'path');
      const { to } = await readBody(c, deps, serviceRollbackBody);
      const options = { ...(to === undefined ? {} : { to }), who: who(c) };
      return progress(deps, (onProgress) =>
        deps.engine.rollbackService(stack, service, options, onProgress),
      );
    },
  },
  {
    method: 'POST',
    path: '/api/stacks/:stack/rollback',
    role: 'deployer',
    handle: async (c, deps) => {
      const { stack } = parse(stackPath, c.req.param(), 'path');
      const { to } = await readBody(c, deps, stackRollbackBody);
      return progress(deps, (onProgress) =>
        deps.engine.rollbackStack(stack, to, who(c), onProgress),
      );
    },
  },
  {
    method: 'GET',
    path: '/api/events',
    role: 'viewer',
    handle: async (c, { engine }) => {
      const query = parse(eventsQuery, c.req.query(), 'query');
      const events = [];
      for await (const event of engine.events({ ...query, follow: false })) events.push(event);
      return c.json(events);
    },
  },
  {
    method: 'GET',
    path: '/api/events/stream',
    role: 'viewer',
    handle: async (c, { engine, failure, heartbeatMs }) => {
      const query = parse(eventsQuery, c.req.query(), 'query');
      // An EventSource reconnecting sends Last-Event-ID with its first URL: the header wins.
      const resume = parse(lastEventId, c.req.header('last-event-id'), 'header');
      const since = resume ?? query.since;
      return sseResponse((signal) => engine.events({ ...query, since, follow: true, signal }), {
        signal: c.req.raw.signal,
        failure,
        heartbeatMs,
      });
    },
  },
];
