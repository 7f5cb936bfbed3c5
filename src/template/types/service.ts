import { z } from 'zod';

import { duration } from '../units.js';

import {
  argv,
  configMounts,
  env,
  issueCode,
  refTo,
  resourceLimits,
  runtime,
  secretMounts,
  volumeMounts,
} from './common.js';

const httpPath = z
  .string()
  .regex(/^\//, { message: "an HTTP health path starts with '/'" })
  .meta({ description: 'Path requested on the instance, e.g. /healthz' });

export const healthCheck = z
  .strictObject({
    http: z
      .union([
        httpPath.transform((path) => ({ path, status: undefined })),
        z.strictObject({
          path: httpPath,
          status: z.number().int().min(100).max(599).optional(),
        }),
      ])
      .optional()
      .meta({ description: 'GET this path; healthy on 2xx/3xx or on `status` when given' }),
    tcp: z.literal(true).optional().meta({ description: 'Healthy when PORT accepts a connection' }),
    exec: argv.optional().meta({ description: 'Healthy when this command exits 0' }),
    interval: duration.prefault('1s'),
    timeout: duration.prefault('1s'),
    healthy_threshold: z.number().int().min(1).default(1),
    unhealthy_threshold: z.number().int().min(1).default(3),
    start_period: duration.prefault('0s'),
  })
  .superRefine((h, ctx) => {
    const kinds = (['http', 'tcp', 'exec'] as const).filter((k) => h[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? 'a health check needs one of http, tcp or exec'
            : `a health check has one kind, not ${kinds.join(' and ')}`,
        params: issueCode(kinds.length === 0 ? 'REQUIRED' : 'INVALID_VALUE'),
      });
    }
  });

const canaryStep = z.strictObject({
  weight: z
    .number()
    .min(0)
    .max(100)
    .meta({ description: 'Percent of traffic to the new revision' }),
  pause: duration.prefault('0s').meta({ description: 'How long to observe before the next step' }),
});

const analysis = z.strictObject({
  max_error_rate: z
    .number()
    .min(0)
    .max(1)
    .default(0.01)
    .meta({ description: 'Largest acceptable share of 5xx responses (0..1)' }),
  max_p99_latency: duration.optional().meta({ description: 'Largest acceptable p99 latency' }),
  min_requests: z
    .number()
    .int()
    .min(0)
    .default(0)
    .meta({ description: 'Requests a step must see before it is judged' }),
});

const strategies = ['rolling', 'blue-green', 'canary'] as const;
const onlyFor: Record<string, (typeof strategies)[number][]> = {
  max_surge: ['rolling', 'canary'],
  max_unavailable: ['rolling'],
  steps: ['canary'],
  analysis: ['canary'],
  keep_previous: ['blue-green'],
};

export const deploySettings = z
  .strictObject({
    strategy: z.enum(strategies).default('rolling'),
    max_surge: z.number().int().min(0).optional(),
    max_unavailable: z.number().int().min(0).optional(),
    steps: z.array(canaryStep).min(1).optional(),
    analysis: analysis.optional(),
    keep_previous: duration.optional(),
  })
  .superRefine((d, ctx) => {
    for (const [key, strategiesOf] of Object.entries(onlyFor)) {
      if (d[key as keyof typeof d] !== undefined && !strategiesOf.includes(d.strategy)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${key} applies to strategy ${strategiesOf.join(' or ')}, not ${d.strategy}`,
          params: issueCode('INVALID_VALUE'),
        });
      }
    }
    if (d.strategy === 'rolling' && d.max_surge === 0 && d.max_unavailable === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_surge'],
        message: 'max_surge and max_unavailable cannot both be 0: the rollout could never move',
        params: issueCode('INVALID_VALUE'),
      });
    }
  })
  .transform((d) => {
    // Keep only what the chosen strategy uses, with its defaults filled in,
    // so that the same intent always has the same spec.
    switch (d.strategy) {
      case 'rolling':
        return {
          strategy: d.strategy,
          max_surge: d.max_surge ?? 1,
          max_unavailable: d.max_unavailable ?? 0,
        };
      case 'blue-green':
        return { strategy: d.strategy, keep_previous: d.keep_previous ?? 300_000 };
      case 'canary':
        return {
          strategy: d.strategy,
          max_surge: d.max_surge ?? 1,
          steps: d.steps ?? [
            { weight: 10, pause: 30_000 },
            { weight: 50, pause: 30_000 },
          ],
          analysis: d.analysis ?? { max_error_rate: 0.01, min_requests: 0 },
        };
    }
  });

export const serviceProperties = z.strictObject({
  artifact: refTo('Drover::Artifact'),
  command: argv.optional(),
  env: env.default({}),
  replicas: z.number().int().min(0).max(1000).default(1),
  health: healthCheck.optional(),
  deploy: deploySettings.prefault({}),
  resources: resourceLimits.default({}),
  volumes: volumeMounts.default([]),
  configs: configMounts.default([]),
  secrets: secretMounts.default([]),
  drift: z.enum(['report', 'replace']).default('report'),
  runtime: runtime.optional(),
  stop_grace: duration
    .prefault('10s')
    .meta({ description: 'Time between SIGTERM and SIGKILL when an instance stops' }),
});

export type ServiceProperties = z.output<typeof serviceProperties>;

/** Service fields that change how Drover manages instances, not what they run. */
export const serviceSettings = ['replicas', 'health', 'deploy', 'drift', 'stop_grace'] as const;
