import { locateStack, StackNameError } from '../engine/index.js';

import { InvalidRequestError, NotFoundError } from './errors.js';
import {
  driftQuery,
  eventsQuery,
  instancesQuery,
  lastEventId,
  parameterInputs,
  parse,
  resourcePath,
  revisionPath,
  servicePath,
  serviceRollbackBody,
  stackPath,
  stackRequestBody,
  stackRollbackBody,
} from './input.js';
import { logRoutes } from './log-routes.js';
import type { Operation } from './ndjson.js';
import { progressResponse } from './ndjson.js';
import { openApiDocument } from './openapi.js';
import { registryRoutes } from './registry-routes.js';
import type { Route, RouteDeps } from './route.js';
import { knownStack, readBody, who } from './route.js';
import { sseResponse } from './sse.js';
import { tokenRoutes } from './token-routes.js';

export type { Route, RouteDeps, RouteOutput } from './route.js';

const progress = (deps: RouteDeps, run: Operation): Promise<Response> =>
  progressResponse(run, { failure: deps.failure, heartbeatMs: deps.heartbeatMs });

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
    summary: 'every applied stack: resources, revisions, replicas, deployments, outputs',
    output: { type: 'json', description: 'StackStatus[]' },
    handle: async (c, { engine }) => c.json(await engine.stacks()),
  },
  {
    method: 'GET',
    path: '/api/stacks/:stack',
    role: 'viewer',
    summary: 'one stack',
    input: { path: stackPath },
    output: { type: 'json', description: 'StackStatus; 404 when no such stack is applied' },
    handle: async (c, { engine }) => {
      const { stack } = parse(stackPath, c.req.param(), 'path');
      return c.json(await knownStack(engine, stack));
    },
  },
  {
    method: 'POST',
    path: '/api/stacks/plan',
    role: 'deployer',
    summary: 'what an apply of the template would change, and why',
    input: { body: stackRequestBody },
    output: { type: 'json', description: 'Plan (hidden values as keyed digests)' },
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
    summary: 'converge a stack to the template',
    input: { body: stackRequestBody },
    output: { type: 'ndjson', description: 'EngineEvent per line, then { result: ApplyResult }' },
    handle: async (c, deps) => {
      const body = await readBody(c, deps, stackRequestBody);
      const stack = stackOf(body.file, body.stack);
      if (stack !== undefined) c.set('audit', { stack });
      const request = { ...body, parameters: parameterInputs(body.parameters), who: who(c) };
      return progress(deps, (onProgress) => deps.engine.apply(request, onProgress));
    },
  },
  {
    method: 'DELETE',
    path: '/api/stacks/:stack',
    role: 'deployer',
    summary: "remove a stack's resources",
    input: { path: stackPath },
    output: { type: 'ndjson', description: 'EngineEvent per line, then { result: ApplyResult }' },
    handle: async (c, deps) => {
      const { stack } = parse(stackPath, c.req.param(), 'path');
      return progress(deps, (onProgress) => deps.engine.destroy(stack, who(c), onProgress));
    },
  },
  {
    method: 'GET',
    path: '/api/instances',
    role: 'viewer',
    summary: 'the instances, of one stack or service with the query',
    input: { query: instancesQuery },
    output: { type: 'json', description: 'InstanceInfo[]' },
    handle: async (c, { engine }) =>
      c.json(await engine.instances(parse(instancesQuery, c.req.query(), 'query'))),
  },
  {
    method: 'GET',
    path: '/api/drift',
    role: 'viewer',
    summary: 'a drift scan, now',
    input: { query: driftQuery },
    output: { type: 'json', description: 'DriftReport; 404 for an unknown stack' },
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
    summary: "a resource's revisions",
    input: { path: resourcePath },
    output: { type: 'json', description: 'RevisionInfo[], newest first' },
    handle: async (c, { engine }) => {
      const { stack, resource } = parse(resourcePath, c.req.param(), 'path');
      return c.json(await engine.history(stack, resource));
    },
  },
  {
    method: 'GET',
    path: '/api/stacks/:stack/resources/:resource/revisions/:revision',
    role: 'viewer',
    summary: 'one revision of a resource, by its id or a prefix of it (4 or more)',
    input: { path: revisionPath },
    output: { type: 'json', description: 'RevisionInfo; 404 when none matches' },
    handle: async (c, { engine }) => {
      const { stack, resource, revision } = parse(revisionPath, c.req.param(), 'path');
      const matches = (await engine.history(stack, resource)).filter((r) =>
        r.id.startsWith(revision),
      );
      if (matches.length > 1) {
        throw new InvalidRequestError(`revision ${revision} of ${stack}/${resource} is ambiguous`, [
          ...matches.map((r) => r.id),
        ]);
      }
      const [found] = matches;
      if (found === undefined) {
        throw new NotFoundError(`${stack}/${resource} has no revision ${revision}`);
      }
      return c.json(found);
    },
  },
  {
    method: 'GET',
    path: '/api/stacks/:stack/history',
    role: 'viewer',
    summary: "a stack's revisions",
    input: { path: stackPath },
    output: { type: 'json', description: 'StackRevisionInfo[], newest first' },
    handle: async (c, { engine }) => {
      const { stack } = parse(stackPath, c.req.param(), 'path');
      return c.json(await engine.stackHistory(stack));
    },
  },
  {
    method: 'GET',
    path: '/api/stacks/:stack/graph',
    role: 'viewer',
    summary: "a stack's resources as a graph, with its services' live health",
    input: { path: stackPath },
    output: { type: 'json', description: 'StackGraph; 404 for an unknown stack' },
    handle: async (c, { engine }) => {
      const { stack } = parse(stackPath, c.req.param(), 'path');
      return c.json(await engine.graph(stack));
    },
  },
  {
    // Who the token is, so a client (the dashboard) offers only what the role may do.
    method: 'GET',
    path: '/api/whoami',
    role: 'viewer',
    summary: 'the calling token: its name and role',
    output: { type: 'json', description: '{ name, role }' },
    handle: async (c) => {
      const { name, role } = c.get('token');
      return c.json({ name, role });
    },
  },
  {
    method: 'POST',
    path: '/api/stacks/:stack/services/:service/rollback',
    role: 'deployer',
    summary: 'bring back an earlier revision of a service (default: the one before)',
    input: { path: servicePath, body: serviceRollbackBody },
    output: { type: 'ndjson', description: 'EngineEvent per line, then { result: ApplyResult }' },
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
    summary: 'bring back a whole earlier stack revision',
    input: { path: stackPath, body: stackRollbackBody },
    output: { type: 'ndjson', description: 'EngineEvent per line, then { result: ApplyResult }' },
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
    summary: 'recorded events after ?since=',
    input: { query: eventsQuery },
    output: { type: 'json', description: 'EngineEvent[], oldest first' },
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
    summary: 'recorded events, then live ones (resume with Last-Event-ID)',
    input: { query: eventsQuery },
    output: { type: 'sse', description: 'id: seq, data: EngineEvent as JSON' },
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
  ...tokenRoutes,
  ...registryRoutes,
  ...logRoutes,
  {
    method: 'GET',
    path: '/openapi.json',
    role: 'viewer',
    summary: 'this API as an OpenAPI 3.1 document, made from the route table',
    output: { type: 'json', description: 'the OpenAPI document' },
    handle: async (c) => c.json(openApiDocument(routes)),
  },
  {
    method: 'GET',
    path: '/metrics',
    role: 'viewer',
    summary: "the daemon's metrics, for Prometheus to scrape with a viewer token",
    output: { type: 'prometheus', description: 'Prometheus text exposition format 0.0.4' },
    handle: async (c, { metrics }) =>
      c.body((await metrics?.()) ?? '', 200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      }),
  },
];

/** The stack an apply concerns, for its audit entry (undefined when the name is unusable). */
function stackOf(file: string, stack: string | undefined): string | undefined {
  try {
    return locateStack(file, stack).stack;
  } catch (error) {
    if (error instanceof StackNameError) return undefined;
    throw error;
  }
}
