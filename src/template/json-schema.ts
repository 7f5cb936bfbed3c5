import { z } from 'zod';

import { functionNames } from './function-names.js';
import {
  constraintSchema,
  mappingSchema,
  NAME,
  parameterSchema,
  templateVersions,
} from './sections.js';
import { resourceTypes } from './types/index.js';

type JsonSchema = Record<string, unknown>;

const FUNCTION_REF = { $ref: '#/$defs/function' };

/** Lets every value position also hold an intrinsic function call. */
function allowFunctions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(allowFunctions);
  if (typeof schema !== 'object' || schema === null) return schema;
  const s = schema as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(s)) {
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      out[key] = Object.fromEntries(
        Object.entries(value as JsonSchema).map(([k, v]) => [k, withFunction(allowFunctions(v))]),
      );
    } else if (
      (key === 'items' || key === 'additionalProperties') &&
      typeof value === 'object' &&
      value !== null
    ) {
      out[key] = withFunction(allowFunctions(value));
    } else {
      out[key] = allowFunctions(value);
    }
  }
  return out;
}

function withFunction(schema: unknown): unknown {
  return { anyOf: [schema, FUNCTION_REF] };
}

function toSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const meta = z.globalRegistry.get(ctx.zodSchema) as { droverRef?: string } | undefined;
      if (meta?.droverRef) {
        ctx.jsonSchema.type = 'object';
        ctx.jsonSchema.properties = { get_resource: { type: 'string' } };
        ctx.jsonSchema.required = ['get_resource'];
      }
    },
  }) as JsonSchema;
}

function strip(schema: JsonSchema): JsonSchema {
  const { $schema: _ignored, ...rest } = schema;
  void _ignored;
  return rest;
}

/**
 * A JSON Schema of the template language for editors (yaml-language-server):
 * the same zod schemas Drover validates with, with intrinsic functions
 * allowed wherever a value stands.
 */
export function templateJsonSchema(): JsonSchema {
  const resourceVariants = Object.entries(resourceTypes).map(([type, def]) => ({
    if: { properties: { type: { const: type } }, required: ['type'] },
    then: {
      properties: {
        properties: allowFunctions(strip(toSchema(def.schema as z.ZodType))),
      },
    },
  }));
  const functionDef = {
    type: 'object',
    minProperties: 1,
    maxProperties: 1,
    propertyNames: { enum: [...functionNames] },
    description: 'An intrinsic function call',
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://drover.dev/schema/drover-template.schema.json',
    title: 'Drover stack template',
    type: 'object',
    additionalProperties: false,
    required: ['drover_template_version'],
    properties: {
      drover_template_version: { enum: [...templateVersions] },
      description: { type: 'string' },
      parameters: {
        type: ['object', 'null'],
        propertyNames: { pattern: NAME.source },
        additionalProperties: strip(toSchema(parameterSchema)),
      },
      mappings: {
        type: ['object', 'null'],
        additionalProperties: strip(toSchema(mappingSchema)),
      },
      conditions: { type: ['object', 'null'], additionalProperties: true },
      resources: {
        type: ['object', 'null'],
        propertyNames: { pattern: NAME.source },
        additionalProperties: {
          type: 'object',
          required: ['type'],
          additionalProperties: false,
          properties: {
            type: {
              anyOf: [
                { enum: Object.keys(resourceTypes) },
                {
                  type: 'string',
                  pattern: '\\.(ya?ml|json)$',
                  description: 'A nested stack template',
                },
              ],
            },
            description: { type: 'string' },
            properties: { type: 'object' },
            depends_on: {
              anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
            },
            condition: {},
            deletion_policy: { enum: ['delete', 'retain'] },
            metadata: { type: 'object' },
          },
          allOf: resourceVariants,
        },
      },
      outputs: {
        type: ['object', 'null'],
        additionalProperties: {
          type: 'object',
          required: ['value'],
          additionalProperties: false,
          properties: { value: {}, description: { type: 'string' }, condition: {} },
        },
      },
    },
    $defs: { function: functionDef, constraint: strip(toSchema(constraintSchema)) },
  };
}
