import fc from 'fast-check';

import { functionNames } from '../function-names.js';
import { parameterSchema, resourceEntrySchema, sectionNames } from '../sections.js';
import { serviceProperties } from '../types/service.js';

/**
 * Template-shaped noise: mappings whose keys and values are drawn from the
 * language's own vocabulary (sections, types, properties, functions) mixed
 * with junk, so that generated inputs reach deep into validation and
 * resolution instead of failing at the first key.
 */
const words = [
  ...sectionNames,
  ...functionNames,
  ...Object.keys(parameterSchema.shape),
  ...Object.keys(resourceEntrySchema.shape),
  ...Object.keys(serviceProperties.shape),
  ...[
    'context',
    'build',
    'http',
    'tcp',
    'exec',
    'host',
    'path',
    'service',
    'content',
    'template',
    'destination',
  ],
  ...['params', 'range', 'min', 'max', 'allowed_values', 'a', 'b', 'web', 'db', 'x'],
];

const scalars = fc.oneof(
  fc.constantFrom(
    '2026-11-21',
    'Drover::Service',
    'Drover::Artifact',
    'Drover::Route',
    'Drover::Volume',
    'Drover::Config',
    'Drover::Secret',
    'Drover::Job',
    'Drover::ConfigTemplate',
    './child.yaml',
    'string',
    'number',
    'json',
    'boolean',
    'comma_delimited_list',
    '1s',
    '128Mi',
    '/',
    '.',
    '..',
    '../..',
    'web',
    'a',
    'b',
    'blue-green',
    'retain',
  ),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

export const templateish: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalars,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 6 })), tie('value'), {
      maxKeys: 5,
    }),
  ),
})).value;

/** A top-level mapping that usually has a valid version, so checks go past the header. */
export const templateDocument = fc.record(
  {
    drover_template_version: fc.oneof(fc.constant('2026-11-21'), scalars),
    parameters: templateish,
    conditions: templateish,
    resources: fc.oneof(
      templateish,
      fc.dictionary(fc.constantFrom('a', 'b', 'web', 'db', 'x'), templateish, { maxKeys: 4 }),
    ),
    outputs: templateish,
    mappings: templateish,
  },
  { requiredKeys: [] },
);

/** References the generated stacks use: names are fixed so references can hit. */
const paramNames = ['p0', 'p1', 'p2'];
const resourceNames = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];
const conditionNames = ['c0', 'c1'];

const stringExpr: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/) },
  { weight: 1, arbitrary: fc.record({ get_param: fc.constantFrom(...paramNames) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      list_join: fc.tuple(
        fc.constantFrom('-', ','),
        fc.array(fc.stringMatching(/^[a-z]{1,3}$/), { maxLength: 3 }),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      str_replace: fc.record({
        template: fc.constant('svc-N'),
        params: fc.record({
          N: fc.oneof(fc.constant('x'), fc.record({ get_param: fc.constantFrom(...paramNames) })),
        }),
      }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      if: fc.tuple(fc.constantFrom(...conditionNames), fc.constant('yes'), fc.constant('no')),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      get_attr: fc.tuple(
        fc.constantFrom(...resourceNames),
        fc.constantFrom('url', 'name', 'path', 'id', 'revision'),
      ),
    }),
  },
);

const ref = fc.record({ get_resource: fc.constantFrom(...resourceNames) });

const propertiesByType: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  'Drover::Artifact': fc.record(
    { context: fc.constantFrom('./app', 'app', './missing') },
    { requiredKeys: ['context'] },
  ),
  'Drover::Service': fc.record(
    {
      artifact: ref,
      command: fc.constantFrom(['node', 'server.js'], ['sh', '-c', 'true']),
      replicas: fc.oneof(fc.nat(4), fc.record({ get_param: fc.constantFrom(...paramNames) })),
      env: fc.dictionary(fc.constantFrom('A', 'B', 'C'), stringExpr, { maxKeys: 3 }),
      health: fc.constantFrom(
        { http: '/healthz' },
        { tcp: true },
        { exec: ['true'], interval: '2s' },
      ),
      deploy: fc.constantFrom(
        { strategy: 'rolling' },
        { strategy: 'blue-green' },
        { strategy: 'canary' },
      ),
    },
    { requiredKeys: ['artifact', 'command'] },
  ),
  'Drover::Route': fc.record(
    { host: fc.constantFrom('a.localhost', '*.b.localhost'), service: ref },
    { requiredKeys: ['service'] },
  ),
  'Drover::Volume': fc.constant({}),
  'Drover::Config': fc.record({ content: stringExpr }),
  'Drover::Secret': fc.record({ content: stringExpr }),
};

const resource = fc.constantFrom(...Object.keys(propertiesByType)).chain((type) =>
  fc.record(
    {
      type: fc.constant(type),
      properties: propertiesByType[type] as fc.Arbitrary<Record<string, unknown>>,
      depends_on: fc.subarray(resourceNames, { maxLength: 2 }),
      condition: fc.constantFrom(...conditionNames),
      deletion_policy: fc.constantFrom('delete', 'retain'),
    },
    { requiredKeys: ['type', 'properties'] },
  ),
);

const parameter = fc.oneof(
  fc.record(
    {
      type: fc.constant('string'),
      default: fc.stringMatching(/^[a-z]{1,5}$/),
      hidden: fc.boolean(),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('number'),
      default: fc.nat(5),
      constraints: fc.constant([{ range: { min: 0, max: 5 } }]),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record({ type: fc.constant('boolean'), default: fc.boolean() }, { requiredKeys: ['type'] }),
);

const condition = fc.oneof(
  fc.boolean(),
  fc.record({
    equals: fc.tuple(
      fc.record({ get_param: fc.constantFrom(...paramNames) }),
      fc.constantFrom('a', 1, true),
    ),
  }),
  fc.record({ not: fc.constantFrom(...conditionNames) }),
);

/** Plausible stacks: mostly valid, with references, conditions and functions that often resolve. */
export const plausibleTemplate = fc.record({
  drover_template_version: fc.constant('2026-11-21'),
  parameters: fc.dictionary(fc.constantFrom(...paramNames), parameter, { maxKeys: 3 }),
  conditions: fc.dictionary(fc.constantFrom(...conditionNames), condition, { maxKeys: 2 }),
  resources: fc.dictionary(fc.constantFrom(...resourceNames), resource, { minKeys: 1, maxKeys: 6 }),
  outputs: fc.dictionary(fc.constantFrom('o0', 'o1'), fc.record({ value: stringExpr }), {
    maxKeys: 2,
  }),
});

/** A plausible stack with one value somewhere replaced by noise. */
export const mutatedTemplate = fc
  .tuple(plausibleTemplate, fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), templateish)
  .map(([doc, path, noise]) => replaceAt(doc, path, noise));

function replaceAt(value: unknown, choices: readonly number[], noise: unknown): unknown {
  if (choices.length === 0 || value === null || typeof value !== 'object') return noise;
  const [choice = 0, ...rest] = choices;
  if (Array.isArray(value)) {
    if (value.length === 0) return noise;
    const i = choice % value.length;
    return value.map((v, j) => (j === i ? replaceAt(v, rest, noise) : v));
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return noise;
  const key = keys[choice % keys.length] as string;
  return {
    ...(value as Record<string, unknown>),
    [key]: replaceAt((value as Record<string, unknown>)[key], rest, noise),
  };
}
