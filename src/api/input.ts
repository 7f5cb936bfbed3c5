import { isAbsolute } from 'node:path';

import { z } from 'zod';

import type { ParameterInput } from '../template/index.js';

import { InvalidRequestError, PayloadTooLargeError } from './errors.js';
import { roles } from './tokens.js';

/**
 * A stack, resource or service name in a path or query. Only a guard against
 * junk: whether it exists, and the exact naming rules, are the engine's.
 */
const name = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'not a valid name');

/**
 * A parameter value. Text (as from `-p name=value`) is read as the parameter's
 * type; other JSON values (as from a --parameters file) are taken as they are.
 */
export const jsonValue = z.json();
const parameter = z.strictObject({
  name: z.string().min(1),
  value: jsonValue.describe("text is read as the parameter's type; other JSON is taken as it is"),
});

export const stackRequestBody = z.strictObject({
  file: z
    .string()
    .refine(isAbsolute, 'must be an absolute path (the daemon does not share your directory)')
    .describe('the template, as an absolute path the daemon can read'),
  stack: name.optional(),
  parameters: z.array(parameter).default([]),
});

export const stackPath = z.object({ stack: name });
export const resourcePath = z.object({ stack: name, resource: name });
export const servicePath = z.object({ stack: name, service: name });

export const instancesQuery = z.object({ stack: name.optional(), service: name.optional() });
export const driftQuery = z.object({ stack: name.optional() });

const seq = z.coerce.number().int().nonnegative();
export const eventsQuery = z.object({ since: seq.optional(), stack: name.optional() });
export const lastEventId = seq.optional();

export const endpointsQuery = instancesQuery;
export const routesQuery = driftQuery;
export const revisionPath = z.object({
  stack: name,
  resource: name,
  revision: z.string().regex(/^[0-9a-f]{4,64}$/, 'not a revision id (or a prefix of 4 or more)'),
});
export const logsQuery = z.object({
  follow: z.stringbool().optional().describe('keep the stream open for new lines (1 or true)'),
  tail: z.coerce
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe("only the last N lines of each instance's history"),
});

/** A token's name is the actor of what it does: a short label, no spaces. */
const tokenName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.@:+-]{0,63}$/, 'letters, digits and _.@:+- (at most 64)');
export const tokenCreateBody = z.strictObject({
  role: z.enum(roles),
  name: tokenName.optional().describe('default: the role and the start of the id'),
});
export const tokenPath = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a token id'),
});

export const serviceRollbackBody = z.strictObject({ to: z.string().min(1).optional() });
export const stackRollbackBody = z.strictObject({ to: z.number().int().positive() });

/** The engine's form of body parameters; `source` labels them in diagnostics. */
export function parameterInputs(
  parameters: readonly { name: string; value: unknown }[],
): ParameterInput[] {
  return parameters.map((p) => ({
    name: p.name,
    value: p.value,
    fromText: typeof p.value === 'string',
    source: 'api',
  }));
}

/** Parses one part of a request, or fails with INVALID_REQUEST naming every problem. */
export function parse<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: 'body' | 'query' | 'path' | 'header',
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => {
    const at = issue.path.reduce<string>(
      (text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${String(key)}`),
      where,
    );
    return `${at}: ${issue.message}`;
  });
  throw new InvalidRequestError(`invalid request ${where}`, details);
}

/**
 * The body as JSON, read up to `maxBytes` (a larger one is a mistake or an
 * attack: plans and parameters are small). An empty body is an empty object,
 * so optional fields can be left out.
 */
export async function jsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body ?? []) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidRequestError('the request body is not valid JSON', [(error as Error).message]);
  }
}
