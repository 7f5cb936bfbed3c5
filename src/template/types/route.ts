import { z } from 'zod';

import { refTo } from './common.js';

const HOST = /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

export const routeProperties = z.strictObject({
  host: z
    .string()
    .transform((h) => h.toLowerCase())
    .pipe(
      z.string().regex(HOST, {
        message: 'must be a host name such as app.example.com or *.example.com',
      }),
    )
    .optional()
    .meta({ description: 'Host to match (exact, or *.domain); absent: any host' }),
  path: z
    .string()
    .regex(/^\/[^?#]*$/, { message: "must start with '/' and hold no query or fragment" })
    .default('/')
    .meta({ description: 'Path prefix to match' }),
  service: refTo('Drover::Service'),
});

export type RouteProperties = z.output<typeof routeProperties>;
