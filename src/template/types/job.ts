import { z } from 'zod';

import { duration } from '../units.js';

import {
  argv,
  configMounts,
  env,
  refTo,
  resourceLimits,
  runtime,
  secretMounts,
  volumeMounts,
} from './common.js';

const FIELD_RANGES: readonly [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

/** Checks a five-field cron expression; returns what is wrong, or undefined. */
export function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) {
    return `'${expr}' has ${fields.length} fields; a schedule has 5 (minute hour day month weekday)`;
  }
  for (const [i, field] of fields.entries()) {
    const [min, max] = FIELD_RANGES[i] ?? [0, 0];
    for (const part of field.split(',')) {
      const match = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
      if (!match) return `'${part}' is not a cron field`;
      const [, range, step] = match;
      if (step !== undefined && Number(step) === 0) return `step 0 in '${part}'`;
      if (range !== '*') {
        const [lo, hi] = (range ?? '').split('-').map(Number);
        if ((lo ?? 0) < min || (hi ?? lo ?? 0) > max || (hi !== undefined && hi < (lo ?? 0))) {
          return `'${part}' is outside ${min}-${max}`;
        }
      }
    }
  }
  return undefined;
}

export const jobProperties = z.strictObject({
  artifact: refTo('Drover::Artifact'),
  command: argv,
  env: env.default({}),
  schedule: z
    .string()
    .superRefine((expr, ctx) => {
      const problem = cronProblem(expr);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .meta({ description: "A cron schedule (minute hour day month weekday), e.g. '0 3 * * *'" }),
  retries: z.number().int().min(0).max(100).default(0),
  timeout: duration.optional().meta({ description: 'Kill a run that takes longer than this' }),
  resources: resourceLimits.default({}),
  volumes: volumeMounts.default([]),
  configs: configMounts.default([]),
  secrets: secretMounts.default([]),
  runtime: runtime.optional(),
});

export type JobProperties = z.output<typeof jobProperties>;

export const jobSettings = ['schedule', 'retries', 'timeout'] as const;
