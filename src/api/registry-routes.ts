import { endpointsQuery, parse, routesQuery } from './input.js';
import type { Route } from './route.js';
import { knownStack } from './route.js';

/** The registry as it is now: what the proxy routes, and where services answer. */
export const registryRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/routes',
    role: 'viewer',
    summary: "the proxy's routes (host, path prefix → service)",
    input: { query: routesQuery },
    output: { type: 'json', description: 'Route[]; 404 for an unknown stack' },
    handle: async (c, { engine }) => {
      const { stack } = parse(routesQuery, c.req.query(), 'query');
      if (stack !== undefined) await knownStack(engine, stack);
      return c.json(await engine.routes(stack === undefined ? {} : { stack }));
    },
  },
  {
    method: 'GET',
    path: '/api/endpoints',
    role: 'viewer',
    summary: 'live endpoints of services: address, port, revision, weight, health, draining',
    input: { query: endpointsQuery },
    output: { type: 'json', description: 'Endpoint[]; 404 for an unknown stack' },
    handle: async (c, { engine }) => {
      const filter = parse(endpointsQuery, c.req.query(), 'query');
      if (filter.stack !== undefined) await knownStack(engine, filter.stack);
      return c.json(await engine.endpoints(filter));
    },
  },
];
