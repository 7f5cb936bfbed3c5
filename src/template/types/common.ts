import { z } from 'zod';

import { cpu, memory } from '../units.js';
import { Ref } from '../values.js';

/** A custom issue carrying a Drover error code for the diagnostic mapper. */
export function issueCode(code: string): { code: string } {
  return { code };
}

/**
 * A reference made with get_resource to a resource of the given type; resolves
 * to the referenced resource's qualified name.
 */
export function refTo(type: string) {
  return z
    .custom<Ref>((v) => v instanceof Ref, {
      message: `expected a reference to a ${type} (use get_resource)`,
    })
    .superRefine((ref, ctx) => {
      if (ref.type !== type) {
        ctx.addIssue({
          code: 'custom',
          message: `must reference a ${type}, but '${ref.resource}' is a ${ref.type}`,
          params: issueCode('REF_TYPE'),
        });
      }
    })
    .transform((ref) => ref.resource)
    .meta({ description: `A reference to a ${type}: { get_resource: NAME }`, droverRef: type });
}

/** A command as an argv list; Drover never builds shell strings. */
export const argv = z
  .array(z.string(), {
    error: (issue) =>
      typeof issue.input === 'string'
        ? 'must be an argv list such as [node, server.js], not a shell string'
        : undefined,
  })
  .min(1, { message: 'must name at least the program to run' })
  .meta({ description: 'A command as a list of arguments, e.g. [node, server.js]' });

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Environment variables; numbers and booleans are taken as their text. */
export const env = z
  .record(
    z.string().regex(ENV_NAME, { message: 'environment variable names are letters, digits and _' }),
    z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)),
  )
  .superRefine((vars, ctx) => {
    for (const name of Object.keys(vars)) {
      if (name === 'PORT' || name.startsWith('DROVER_')) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `${name} is set by Drover for each instance and cannot be declared`,
          params: issueCode('INVALID_VALUE'),
        });
      }
    }
  })
  .meta({ description: 'Environment variables for each instance' });

/** A `..` between slashes (or at either end): a path that could climb out. */
const PARENT_SEGMENT = /(^|\/)\.\.(\/|$)/;

/** A path inside an instance: relative to its working directory, never climbing out. */
export const instancePath = z
  .string()
  .min(1)
  .refine((p) => !PARENT_SEGMENT.test(p), { message: "must not contain '..'" })
  .meta({ description: 'A file path inside the instance' });

export const runtime = z
  .enum(['process', 'docker'])
  .meta({ description: "Where instances run; default: the artifact's kind" });

export const resourceLimits = z
  .strictObject({
    memory: memory.optional(),
    cpu: cpu.optional(),
  })
  .meta({ description: 'Memory and CPU limits per instance' });

/** Files mounted into instances: Configs, Secrets and Volumes. */
export const configMounts = z.array(
  z.strictObject({
    config: refTo('Drover::Config'),
    path: instancePath,
  }),
);

export const secretMounts = z.array(
  z.strictObject({
    secret: refTo('Drover::Secret'),
    path: instancePath,
  }),
);

export const volumeMounts = z.array(
  z.strictObject({
    volume: refTo('Drover::Volume'),
    path: instancePath,
    read_only: z.boolean().default(false),
  }),
);
