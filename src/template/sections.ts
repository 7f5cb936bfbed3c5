import { z } from 'zod';

import { issueCode } from './types/common.js';

/** Language versions this Drover reads. */
export const templateVersions = ['2026-11-21'] as const;

export const sectionNames = [
  'drover_template_version',
  'description',
  'parameters',
  'mappings',
  'conditions',
  'resources',
  'outputs',
] as const;

export const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const parameterTypes = [
  'string',
  'number',
  'boolean',
  'json',
  'comma_delimited_list',
] as const;
export type ParameterType = (typeof parameterTypes)[number];

const bounds = (kind: string) =>
  z
    .strictObject({ min: z.number().optional(), max: z.number().optional() })
    .superRefine((b, ctx) => {
      if (b.min === undefined && b.max === undefined) {
        ctx.addIssue({ code: 'custom', message: `${kind} needs min, max or both` });
      } else if (b.min !== undefined && b.max !== undefined && b.min > b.max) {
        ctx.addIssue({ code: 'custom', message: `${kind} min ${b.min} is above max ${b.max}` });
      }
    });

const constraintKinds = ['allowed_values', 'range', 'length', 'allowed_pattern'] as const;

export const constraintSchema = z
  .strictObject({
    allowed_values: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1)
      .optional(),
    range: bounds('range').optional(),
    length: bounds('length').optional(),
    allowed_pattern: z
      .string()
      .superRefine((pattern, ctx) => {
        try {
          new RegExp(pattern, 'u');
        } catch (error) {
          ctx.addIssue({
            code: 'custom',
            message: `not a valid pattern: ${(error as Error).message}`,
          });
        }
      })
      .optional(),
    description: z.string().optional().meta({ description: 'Message shown when the value fails' }),
  })
  .superRefine((c, ctx) => {
    const kinds = constraintKinds.filter((k) => c[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? `a constraint needs one of ${constraintKinds.join(', ')}`
            : `a constraint has one kind; split ${kinds.join(' and ')} into separate entries`,
        params: issueCode(kinds.length === 0 ? 'REQUIRED' : 'INVALID_VALUE'),
      });
    }
  });

export type Constraint = z.output<typeof constraintSchema>;

export const parameterSchema = z.strictObject({
  type: z.enum(parameterTypes),
  default: z.unknown().optional(),
  description: z.string().optional(),
  label: z.string().optional(),
  hidden: z.boolean().default(false),
  constraints: z.array(constraintSchema).default([]),
});

export type ParameterDecl = z.output<typeof parameterSchema>;

export const mappingSchema = z.record(
  z.string(),
  z.record(z.string(), z.unknown(), { error: 'each mapping key holds a mapping of values' }),
  { error: 'a mapping is a two-level table: { key1: { key2: value } }' },
);

export const resourceEntrySchema = z.strictObject({
  type: z.string().min(1),
  description: z.string().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  depends_on: z.union([z.string(), z.array(z.string())]).optional(),
  condition: z.unknown().optional(),
  deletion_policy: z.enum(['delete', 'retain']).default('delete'),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export const outputEntrySchema = z.strictObject({
  value: z.unknown().refine((v) => v !== undefined, { message: 'an output needs a value' }),
  description: z.string().optional(),
  condition: z.unknown().optional(),
});

const section = z.record(z.string(), z.unknown()).nullable().optional();

/** The sections; their entries are checked one by one with the schemas above. */
export const topLevelSchema = z.strictObject({
  drover_template_version: z.unknown(),
  description: z.string().optional(),
  parameters: section,
  mappings: section,
  conditions: section,
  resources: section,
  outputs: section,
});
