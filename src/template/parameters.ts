import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

import type { Diagnostic, Loc } from './errors.js';
import { Diagnostics } from './errors.js';
import type { Constraint, ParameterDecl, ParameterType } from './sections.js';
import type { Node } from './source.js';
import { describeValue, parseSource, toPlain } from './source.js';

/** A value given for a parameter, and where it was given (for messages). */
export interface ParameterInput {
  readonly name: string;
  readonly value: unknown;
  /** True for `-p name=value`: the value is text to be read as the parameter's type. */
  readonly fromText: boolean;
  readonly loc?: Loc;
  /** Label when there is no location, e.g. "-p replicas=x". */
  readonly source: string;
}

/** Reads `name=value` arguments of `-p`. */
export function parseParameterArgs(args: readonly string[]): {
  inputs: ParameterInput[];
  diagnostics: Diagnostic[];
} {
  const inputs: ParameterInput[] = [];
  const diagnostics = new Diagnostics();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      diagnostics.add('PARAMETER_VALUE', `'${arg}' is not name=value`, undefined, '-p');
      continue;
    }
    const name = arg.slice(0, eq);
    inputs.push({ name, value: arg.slice(eq + 1), fromText: true, source: `-p ${name}` });
  }
  return { inputs, diagnostics: diagnostics.list };
}

/**
 * Reads a parameters file: a YAML/JSON mapping of name → value, or one with a
 * single `parameters:` mapping (the Heat environment-file shape).
 */
export function loadParameterFile(file: string): {
  inputs: ParameterInput[];
  diagnostics: Diagnostic[];
} {
  const diagnostics = new Diagnostics();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    diagnostics.add(
      'MISSING_FILE',
      `cannot read parameters: ${(error as Error).message}`,
      undefined,
      file,
    );
    return { inputs: [], diagnostics: diagnostics.list };
  }
  const parsed = parseSource(text, file);
  diagnostics.list.push(...parsed.diagnostics);
  let root: Node | undefined = parsed.root;
  if (root?.kind === 'map' && root.entries.length === 1 && root.entries[0]?.key === 'parameters') {
    root = root.entries[0].value;
  }
  if (root === undefined || (root.kind === 'scalar' && root.value === null)) {
    return { inputs: [], diagnostics: diagnostics.list };
  }
  if (root.kind !== 'map') {
    diagnostics.add(
      'NOT_A_MAPPING',
      'a parameters file is a mapping of parameter names to values',
      root.loc,
    );
    return { inputs: [], diagnostics: diagnostics.list };
  }
  const inputs = root.entries.map((e) => ({
    name: e.key,
    value: toPlain(e.value),
    fromText: false,
    loc: e.value.loc,
    source: file,
  }));
  return { inputs, diagnostics: diagnostics.list };
}

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1', 't', 'y']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0', 'f', 'n']);

export type Coerced = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Reads a value as the parameter's type. Text (from `-p`) is parsed; values
 * from files are taken as written, with scalars allowed where text would be.
 */
export function coerceParameter(
  type: ParameterType,
  value: unknown,
  fromText: boolean,
  hidden = false,
): Coerced {
  const got = hidden ? 'a hidden value of another type' : describeValue(value);
  const bad = (what: string): Coerced => ({ ok: false, message: `expected ${what}, got ${got}` });
  switch (type) {
    case 'string':
      if (typeof value === 'string') return { ok: true, value };
      if (!fromText && (typeof value === 'number' || typeof value === 'boolean'))
        return { ok: true, value: String(value) };
      return bad('a string');
    case 'number': {
      if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value };
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
        return { ok: true, value: Number(value) };
      }
      return bad('a number');
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { ok: true, value };
      const word = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
      if (word !== undefined && TRUE_WORDS.has(word)) return { ok: true, value: true };
      if (word !== undefined && FALSE_WORDS.has(word)) return { ok: true, value: false };
      return bad('true or false');
    }
    case 'json': {
      if (typeof value === 'string' && fromText) {
        try {
          return { ok: true, value: JSON.parse(value) as unknown };
        } catch (error) {
          return {
            ok: false,
            message: hidden ? 'not valid JSON' : `not valid JSON: ${(error as Error).message}`,
          };
        }
      }
      if (typeof value === 'object' && value !== null) return { ok: true, value };
      return bad('a mapping or a list');
    }
    case 'comma_delimited_list': {
      if (typeof value === 'string') {
        return {
          ok: true,
          value: value.trim() === '' ? [] : value.split(',').map((s) => s.trim()),
        };
      }
      if (
        Array.isArray(value) &&
        value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))
      ) {
        return { ok: true, value: value.map((v) => String(v)) };
      }
      return bad('a list of strings or comma-separated text');
    }
  }
}

/** Which constraint kinds make sense for which parameter types. */
const constraintTypes: Record<string, readonly ParameterType[]> = {
  allowed_values: ['string', 'number', 'comma_delimited_list', 'boolean'],
  range: ['number'],
  length: ['string', 'comma_delimited_list', 'json'],
  allowed_pattern: ['string', 'comma_delimited_list'],
};

/** The constraint kinds that do not fit the parameter's type. */
export function misfitConstraints(decl: ParameterDecl): { index: number; kind: string }[] {
  const out: { index: number; kind: string }[] = [];
  decl.constraints.forEach((c, index) => {
    for (const kind of Object.keys(constraintTypes)) {
      if (
        c[kind as keyof Constraint] !== undefined &&
        !constraintTypes[kind]?.includes(decl.type)
      ) {
        out.push({ index, kind });
      }
    }
  });
  return out;
}

/** Messages for every constraint the (already typed) value fails; hidden values are never quoted. */
export function constraintFailures(decl: ParameterDecl, value: unknown): string[] {
  const failures: string[] = [];
  const describe = decl.hidden ? () => 'the hidden value' : describeValue;
  for (const c of decl.constraints) {
    const problem = checkConstraint(c, value, describe);
    if (problem !== undefined) failures.push(c.description ?? problem);
  }
  return failures;
}

function checkConstraint(
  c: Constraint,
  value: unknown,
  describeValue: (v: unknown) => string,
): string | undefined {
  const items = Array.isArray(value) ? value : [value];
  if (c.allowed_values) {
    const allowed = c.allowed_values;
    const wrong = items.find((item) => !allowed.some((a) => isDeepStrictEqual(a, item)));
    if (wrong !== undefined) {
      return `${describeValue(wrong)} is not one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
    }
  }
  if (c.range && typeof value === 'number') {
    const { min, max } = c.range;
    if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
      return `${describeValue(value)} is outside the range ${min ?? '-∞'}..${max ?? '∞'}`;
    }
  }
  if (c.length) {
    const length =
      typeof value === 'string'
        ? [...value].length
        : Array.isArray(value)
          ? value.length
          : undefined;
    const { min, max } = c.length;
    if (
      length !== undefined &&
      ((min !== undefined && length < min) || (max !== undefined && length > max))
    ) {
      return `length ${length} is outside ${min ?? 0}..${max ?? '∞'}`;
    }
  }
  if (c.allowed_pattern) {
    const pattern = new RegExp(`^(?:${c.allowed_pattern})$`, 'u');
    const wrong = items.find((item) => typeof item === 'string' && !pattern.test(item));
    if (wrong !== undefined) return `${describeValue(wrong)} does not match /${c.allowed_pattern}/`;
  }
  return undefined;
}
