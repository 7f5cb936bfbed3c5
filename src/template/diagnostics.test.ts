import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { ErrorCode } from './index.js';
import { errorCodes, formatDiagnostic } from './index.js';
import { check, HEADER, lineOf, removeFixtures } from './testing/fixture.js';

afterAll(removeFixtures);

interface Case {
  readonly name: string;
  readonly code: ErrorCode;
  /** Files of the fixture; the expected line holds `@CODE` (in `markerFile`, default stack.yaml). */
  readonly files: Record<string, string>;
  readonly markerFile?: string;
  readonly mode?: 'validate' | 'plan';
  readonly params?: Record<string, string>;
  /** Expected column, when it matters. */
  readonly col?: number;
  readonly message?: RegExp;
}

const service = (extra = ''): string => `
  build:
    type: Drover::Artifact
    properties: { context: ./app }
  web:
    type: Drover::Service
    properties:
      artifact: { get_resource: build }
      command: [node, server.js]
${extra}`;

const app = { 'app/server.js': 'console.log(1)\n' };

const bomb = [
  HEADER,
  'description: x',
  'conditions:',
  '  a: &a [true,true,true,true,true,true,true,true,true]',
  '  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  '  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  '  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  '  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  '  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  '  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f] # @ALIAS_BOMB (where the expansion crosses the limit)',
  '  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
].join('\n');

const cases: Case[] = [
  {
    name: 'an unclosed flow mapping',
    code: 'YAML_SYNTAX',
    files: {
      'stack.yaml': `${HEADER}resources:\n  v: { type: Drover::Volume\n  w: x # @YAML_SYNTAX\n`,
    },
  },
  {
    name: 'the same resource twice',
    code: 'DUPLICATE_KEY',
    files: {
      'stack.yaml': `${HEADER}resources:\n  v: { type: Drover::Volume }\n  v: { type: Drover::Volume } # @DUPLICATE_KEY\n`,
    },
    col: 3,
  },
  {
    name: 'a duplicate key in a JSON template',
    code: 'DUPLICATE_KEY',
    file: undefined,
    files: {
      'stack.json':
        '{\n "drover_template_version": "2026-11-21",\n "description": "a",\n "description": "b"\n}\n',
    },
    markerFile: 'stack.json',
  } as Case & { file: undefined },
  { name: 'an alias bomb', code: 'ALIAS_BOMB', files: { 'stack.yaml': bomb } },
  {
    name: 'a file over the size limit',
    code: 'TOO_LARGE',
    files: {
      'stack.yaml': `# @TOO_LARGE\n${HEADER}description: "${'x'.repeat(9 * 1024 * 1024)}"\n`,
    },
    message: /at most/,
  },
  {
    name: 'flow collections nested hundreds deep',
    code: 'TOO_DEEP',
    files: { 'stack.yaml': `${'['.repeat(1000)}${']'.repeat(1000)} # @TOO_DEEP\n` },
  },
  {
    name: 'a template that is a list',
    code: 'NOT_A_MAPPING',
    files: { 'stack.yaml': '- drover_template_version # @NOT_A_MAPPING\n' },
  },
  {
    name: 'no version',
    code: 'VERSION_MISSING',
    files: { 'stack.yaml': 'description: no version # @VERSION_MISSING\n' },
  },
  {
    name: 'a version from another tool',
    code: 'VERSION_UNKNOWN',
    files: { 'stack.yaml': 'drover_template_version: 2013-05-23 # @VERSION_UNKNOWN\n' },
    col: 26,
  },
  {
    name: 'a misspelt section',
    code: 'UNKNOWN_SECTION',
    files: { 'stack.yaml': `${HEADER}resource: {} # @UNKNOWN_SECTION\n` },
    message: /did you mean 'resources'/,
  },
  {
    name: 'a misspelt parameter key',
    code: 'UNKNOWN_KEY',
    files: {
      'stack.yaml': `${HEADER}parameters:\n  p:\n    type: string\n    defualt: x # @UNKNOWN_KEY\n`,
    },
    message: /did you mean 'default'/,
  },
  {
    name: 'a misspelt resource type',
    code: 'UNKNOWN_TYPE',
    files: { 'stack.yaml': `${HEADER}resources:\n  v:\n    type: Drover::Volum # @UNKNOWN_TYPE\n` },
    message: /did you mean 'Drover::Volume'/,
  },
  {
    name: 'a misspelt property',
    code: 'UNKNOWN_PROPERTY',
    files: {
      ...app,
      'stack.yaml': `${HEADER}resources:${service('      replica: 2 # @UNKNOWN_PROPERTY')}`,
    },
    message: /did you mean 'replicas'/,
  },
  {
    name: 'a misspelt function',
    code: 'UNKNOWN_FUNCTION',
    files: {
      ...app,
      'stack.yaml': `${HEADER}parameters:\n  n: { type: number, default: 1 }\nresources:${service('      replicas: { get_parm: n } # @UNKNOWN_FUNCTION')}`,
    },
    message: /did you mean 'get_param'/,
  },
  {
    name: 'a CloudFormation function',
    code: 'UNKNOWN_FUNCTION',
    files: {
      'stack.yaml': `${HEADER}outputs:\n  o:\n    value: { "Fn::Join": [",", [a]] } # @UNKNOWN_FUNCTION\n`,
    },
    message: /list_join/,
  },
  {
    name: 'an attribute the type does not have',
    code: 'UNKNOWN_ATTRIBUTE',
    files: {
      ...app,
      'stack.yaml': `${HEADER}resources:${service()}  r:\n    type: Drover::Route\n    properties: { service: { get_resource: web } }\noutputs:\n  url:\n    value: { get_attr: [r, uri] } # @UNKNOWN_ATTRIBUTE\n`,
    },
    message: /did you mean 'url'/,
  },
  {
    name: 'if with two arguments',
    code: 'FUNCTION_ARGS',
    files: {
      'stack.yaml': `${HEADER}outputs:\n  o:\n    value: { if: [true, a] } # @FUNCTION_ARGS\n`,
    },
  },
  {
    name: 'a function in a parameter default',
    code: 'FUNCTION_NOT_ALLOWED',
    files: {
      'stack.yaml': `${HEADER}parameters:\n  a: { type: string, default: x }\n  b:\n    type: string\n    default: { get_param: a } # @FUNCTION_NOT_ALLOWED\n`,
    },
  },
  {
    name: 'replicas as text',
    code: 'TYPE',
    files: { ...app, 'stack.yaml': `${HEADER}resources:${service('      replicas: two # @TYPE')}` },
    message: /expected a number, got string 'two'/,
  },
  {
    name: 'a parameter value of the wrong type through get_param',
    code: 'TYPE',
    files: {
      ...app,
      'stack.yaml': `${HEADER}parameters:\n  v: { type: string, default: "1" }\nresources:${service('      replicas: { get_param: v } # @TYPE')}`,
    },
    message: /value of get_param v/,
  },
  {
    name: 'a route without a service',
    code: 'REQUIRED',
    files: {
      'stack.yaml': `${HEADER}resources:\n  r:\n    type: Drover::Route\n    properties: # @REQUIRED\n      host: a.localhost\n`,
    },
    message: /service/,
  },
  {
    name: 'an unknown strategy',
    code: 'INVALID_VALUE',
    files: {
      ...app,
      'stack.yaml': `${HEADER}resources:${service('      deploy:\n        strategy: blue_green # @INVALID_VALUE')}`,
    },
    message: /did you mean 'blue-green'/,
  },
  {
    name: 'a command as a shell string',
    code: 'TYPE',
    files: {
      ...app,
      'stack.yaml': `${HEADER}resources:${service().replace('command: [node, server.js]', "command: 'node server.js' # @TYPE")}`,
    },
    message: /argv list/,
  },
  {
    name: 'a bad duration',
    code: 'INVALID_VALUE',
    files: {
      ...app,
      'stack.yaml': `${HEADER}resources:${service('      health:\n        tcp: true\n        interval: 5 # @INVALID_VALUE')}`,
    },
  },
  {
    name: 'a resource name with a dot',
    code: 'INVALID_NAME',
    files: {
      'stack.yaml': `${HEADER}resources:\n  a.b: { type: Drover::Volume } # @INVALID_NAME\n`,
    },
  },
  {
    name: 'get_param of an undeclared parameter',
    code: 'MISSING_PARAMETER',
    files: {
      'stack.yaml': `${HEADER}parameters:\n  region: { type: string, default: x }\noutputs:\n  o:\n    value: { get_param: regoin } # @MISSING_PARAMETER\n`,
    },
    message: /did you mean 'region'/,
  },
  {
    name: 'get_resource of an undeclared resource',
    code: 'MISSING_RESOURCE',
    files: {
      'stack.yaml': `${HEADER}outputs:\n  o:\n    value: { get_resource: nowhere } # @MISSING_RESOURCE\n`,
    },
  },
  {
    name: 'depends_on an undeclared resource',
    code: 'MISSING_RESOURCE',
    files: {
      'stack.yaml': `${HEADER}resources:\n  data: { type: Drover::Volume }\n  v:\n    type: Drover::Volume\n    depends_on: [dta] # @MISSING_RESOURCE\n`,
    },
    message: /did you mean 'data'/,
  },
  {
    name: 'a resource condition that is not declared',
    code: 'MISSING_CONDITION',
    files: {
      'stack.yaml': `${HEADER}resources:\n  v:\n    type: Drover::Volume\n    condition: is_prod # @MISSING_CONDITION\n`,
    },
  },
  {
    name: 'find_in_map of an undeclared mapping',
    code: 'MISSING_MAPPING',
    files: {
      'stack.yaml': `${HEADER}mappings:\n  sizes: { dev: { memory: 1Gi } }\noutputs:\n  o:\n    value: { find_in_map: [size, dev, memory] } # @MISSING_MAPPING\n`,
    },
    message: /did you mean 'sizes'/,
  },
  {
    name: 'find_in_map with a key the mapping lacks',
    code: 'MISSING_MAPPING',
    files: {
      'stack.yaml': `${HEADER}mappings:\n  sizes: { dev: { memory: 1Gi } }\noutputs:\n  o:\n    value: { find_in_map: [sizes, dev, memroy] } # @MISSING_MAPPING\n`,
    },
    message: /did you mean 'memory'/,
  },
  {
    name: 'a route to an artifact',
    code: 'REF_TYPE',
    files: {
      ...app,
      'stack.yaml': `${HEADER}resources:${service()}  r:\n    type: Drover::Route\n    properties:\n      service: { get_resource: build } # @REF_TYPE\n`,
    },
  },
  {
    name: 'a reference to a resource its condition leaves out',
    code: 'REF_DISABLED',
    files: {
      'stack.yaml': `${HEADER}conditions:\n  never: false\nresources:\n  v:\n    type: Drover::Volume\n    condition: never\noutputs:\n  o:\n    value: { get_resource: v } # @REF_DISABLED\n`,
    },
  },
  {
    name: 'a default outside allowed_values',
    code: 'CONSTRAINT',
    files: {
      'stack.yaml': `${HEADER}parameters:\n  env:\n    type: string\n    default: staging # @CONSTRAINT\n    constraints:\n      - allowed_values: [dev, prod]\n`,
    },
  },
  {
    name: 'a parameter without default in plan mode',
    code: 'PARAMETER_VALUE',
    mode: 'plan',
    files: { 'stack.yaml': `${HEADER}parameters:\n  key: { type: string } # @PARAMETER_VALUE\n` },
  },
  {
    name: 'two resources that need each other',
    code: 'CYCLE',
    files: {
      ...app,
      'stack.yaml': `${HEADER}resources:\n  a:\n    type: Drover::Volume\n    depends_on: b # @CYCLE\n  b:\n    type: Drover::Volume\n    depends_on: [a]\n`,
    },
    message: /a → b → a/,
  },
  {
    name: 'conditions that refer to each other',
    code: 'CYCLE',
    files: { 'stack.yaml': `${HEADER}conditions:\n  x: { not: y } # @CYCLE\n  y: { not: x }\n` },
    message: /x → y → x/,
  },
  {
    name: 'an artifact context that does not exist',
    code: 'MISSING_CONTEXT',
    files: {
      'stack.yaml': `${HEADER}resources:\n  b:\n    type: Drover::Artifact\n    properties: { context: ./nope } # @MISSING_CONTEXT\n`,
    },
  },
  {
    name: 'a Dockerfile missing from the context',
    code: 'MISSING_CONTEXT',
    files: {
      ...app,
      'stack.yaml': `${HEADER}resources:\n  b:\n    type: Drover::Artifact\n    properties:\n      context: ./app\n      dockerfile: Dockerfile # @MISSING_CONTEXT\n`,
    },
  },
  {
    name: 'a nested template that does not exist',
    code: 'MISSING_FILE',
    files: { 'stack.yaml': `${HEADER}resources:\n  db:\n    type: ./db.yaml # @MISSING_FILE\n` },
  },
  {
    name: 'get_file of a missing file',
    code: 'MISSING_FILE',
    files: {
      'stack.yaml': `${HEADER}outputs:\n  o:\n    value: { get_file: missing.txt } # @MISSING_FILE\n`,
    },
  },
  {
    name: 'get_file outside the template directory',
    code: 'PATH_ESCAPE',
    files: {
      'outside.txt': 'x',
      'sub/stack.yaml': `${HEADER}outputs:\n  o:\n    value: { get_file: ../outside.txt } # @PATH_ESCAPE\n`,
    },
    markerFile: 'sub/stack.yaml',
  },
  {
    name: 'a nested template that includes its parent',
    code: 'NESTED_RECURSION',
    files: {
      'stack.yaml': `${HEADER}resources:\n  child:\n    type: ./child.yaml\n`,
      'child.yaml': `${HEADER}resources:\n  again:\n    type: ./stack.yaml # @NESTED_RECURSION\n`,
    },
    markerFile: 'child.yaml',
  },
];

describe('every error code points at the offending line', () => {
  it.each(cases)('$code: $name', async (c) => {
    const markerFile =
      c.markerFile ??
      Object.keys(c.files).find((f) => f.endsWith('stack.yaml') || f.endsWith('stack.json')) ??
      'stack.yaml';
    const entry =
      Object.keys(c.files).find((f) => /(^|\/)stack\.(yaml|json)$/.test(f)) ?? 'stack.yaml';
    const result = await check(c.files, { mode: c.mode, params: c.params, file: entry });
    const text = c.files[markerFile] ?? '';
    const expectedLine = markerFile.endsWith('.json') ? 4 : lineOf(text, `@${c.code}`);
    const found = result.diagnostics.filter((d) => d.code === c.code);
    const printed = result.diagnostics.map(formatDiagnostic).join('\n');
    expect(found.length, `no ${c.code} in:\n${printed}`).toBeGreaterThan(0);
    const at = found.find((d) => d.loc?.line === expectedLine && d.loc.file.endsWith(markerFile));
    expect(at, `${c.code} not at ${markerFile}:${expectedLine} in:\n${printed}`).toBeDefined();
    if (c.col !== undefined) expect(at?.loc?.col).toBe(c.col);
    if (c.message) expect(at?.message).toMatch(c.message);
    if (at) expect(formatDiagnostic(at)).toMatch(/^\S+:\d+:\d+: error [A-Z_]+: .+/);
  });

  it('has a case for every code', () => {
    const covered = new Set(cases.map((c) => c.code));
    expect(Object.keys(errorCodes).filter((code) => !covered.has(code as ErrorCode))).toEqual([]);
  });

  it('reports every problem of a template at once, in line order', async () => {
    const text = `${HEADER}parameters:\n  a: { type: strin }\nresources:\n  v: { type: Drover::Volum }\n  r:\n    type: Drover::Route\n    properties: { service: { get_resource: nope } }\noutputs:\n  o: { valeu: 1 }\n`;
    const result = await check({ 'stack.yaml': text });
    expect(result.diagnostics.map((d) => [d.code, d.loc?.line])).toEqual([
      ['INVALID_VALUE', 3],
      ['UNKNOWN_TYPE', 5],
      ['MISSING_RESOURCE', 8],
      ['UNKNOWN_KEY', 10],
    ]);
  });

  it('names files of nested templates in their own diagnostics', async () => {
    const result = await check({
      'stack.yaml': `${HEADER}resources:\n  db:\n    type: ./db/db.yaml\n`,
      'db/db.yaml': `${HEADER}resources:\n  v: { type: Drover::Volume, deletion_policy: keep }\n`,
    });
    const [d] = result.diagnostics;
    expect(d?.loc?.file).toBe(join(result.dir, 'db/db.yaml'));
    expect(d?.loc?.line).toBe(3);
    expect(readFileSync(join(result.dir, 'db/db.yaml'), 'utf8')).toContain('keep');
  });
});
