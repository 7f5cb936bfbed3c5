import type { z } from 'zod';

import type { Diagnostics, ErrorCode, Loc } from './errors.js';
import { errorCodes } from './errors.js';
import { functionNames, unknownFunctionHint } from './function-names.js';
import { describeValue } from './source.js';
import { closest, didYouMean, listOf } from './suggest.js';
import type { Path } from './values.js';
import { isUnknown, pathText, startsWith } from './values.js';

type Issue = z.core.$ZodIssue;

/** Finds where a value at a path came from. */
export interface Locator {
  /** Location of the value at `path`, or of the deepest existing ancestor. */
  valueLoc(path: Path): { loc: Loc; exact: boolean; via?: string };
  /** Location of a map key. */
  keyLoc(path: Path, key: string): Loc | undefined;
  /** Location of the key that names the value at `path` (for "missing key" messages). */
  ownerLoc(path: Path): Loc;
}

export interface IssueContext {
  readonly schema: z.ZodType;
  readonly locator: Locator;
  /** The value that was checked (plain, after unwrapping). */
  readonly input: unknown;
  readonly diagnostics: Diagnostics;
  /** Code for unknown keys at the top of what was checked. */
  readonly unknownKeyCode?: ErrorCode;
  /** e.g. "Drover::Service property" — used in unknown-key messages. */
  readonly keyNoun?: string;
  /** Issues under these paths are about values that are not known yet. */
  readonly skip?: readonly Path[];
  /** Whether a known function name here means "functions are not allowed". */
  readonly literalOnly?: boolean;
}

/** Turns schema issues into located diagnostics with Drover's codes. */
export function reportIssues(issues: readonly Issue[], ctx: IssueContext): void {
  // A misspelt key is one mistake: report the unknown key with its suggestion,
  // not also the required key it was meant to be.
  const meant = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const allowed = keysAt(ctx.schema, issue.path as Path);
    for (const key of issue.keys) {
      const match = closest(key, allowed);
      if (match !== undefined) meant.add(pathText([...(issue.path as Path), match]));
    }
  }
  for (const issue of issues) {
    const path = issue.path as Path;
    if (valueAt(ctx.input, path) === undefined && meant.has(pathText(path))) continue;
    reportIssue(issue, [], ctx);
  }
}

function reportIssue(issue: Issue, base: Path, ctx: IssueContext): void {
  const path = [...base, ...(issue.path as (string | number)[])];
  if (ctx.skip?.some((s) => startsWith(path, s))) return;
  const value = valueAt(ctx.input, path);
  if (isUnknown(value)) return;
  const { loc, via } = ctx.locator.valueLoc(path);
  const from = via ? ` (value of ${via})` : '';
  const add = (code: ErrorCode, message: string, at: Loc = loc): void =>
    ctx.diagnostics.add(code, message, at);

  if (value === undefined && path.length > 0 && issue.code !== 'unrecognized_keys') {
    const name = path.at(-1);
    add(
      'REQUIRED',
      `missing required ${typeof name === 'number' ? 'item' : `key '${String(name)}'`}`,
      ctx.locator.ownerLoc(path.slice(0, -1)),
    );
    return;
  }

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysAt(ctx.schema, path);
      for (const key of issue.keys) {
        const code = path.length === 0 && ctx.unknownKeyCode ? ctx.unknownKeyCode : 'UNKNOWN_KEY';
        const noun = path.length === 0 && ctx.keyNoun ? ctx.keyNoun : 'key';
        const hint = functionLike(key) ? unknownFunctionHint(key) : didYouMean(key, allowed);
        add(
          functionNames.has(key) && ctx.literalOnly ? 'FUNCTION_NOT_ALLOWED' : code,
          functionNames.has(key) && ctx.literalOnly
            ? `intrinsic functions are not allowed here ('${key}')`
            : `unknown ${noun} '${key}'${hint}${allowed.length && !hint ? `; expected ${listOf(allowed)}` : ''}`,
          ctx.locator.keyLoc(path, key) ?? loc,
        );
      }
      return;
    }
    case 'invalid_type': {
      const single = singleKey(value);
      if (single !== undefined && !via) {
        if (functionNames.has(single) && ctx.literalOnly) {
          add('FUNCTION_NOT_ALLOWED', `intrinsic functions are not allowed here ('${single}')`);
          return;
        }
        const hint = unknownFunctionHint(single);
        if (hint) {
          add('UNKNOWN_FUNCTION', `unknown function '${single}'${hint}`);
          return;
        }
      }
      const message = customMessage(issue) ?? `expected ${expectedText(issue.expected)}`;
      add('TYPE', `${message}, got ${describeValue(value)}${from}`);
      return;
    }
    case 'invalid_value': {
      const options = issue.values.map(String);
      add(
        'INVALID_VALUE',
        `${describeValue(value)} is not one of ${listOf(options)}${didYouMean(String(value), options)}${from}`,
      );
      return;
    }
    case 'invalid_union': {
      const branches = issue.errors.filter(
        (branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0),
      );
      if (branches.length === 0) {
        const expected = issue.errors
          .flatMap((b) => b.map((i) => (i.code === 'invalid_type' ? expectedText(i.expected) : '')))
          .filter((e, i, all) => e !== '' && all.indexOf(e) === i);
        add('TYPE', `expected ${expected.join(' or ')}, got ${describeValue(value)}${from}`);
        return;
      }
      const best = branches.reduce((a, b) => (b.length < a.length ? b : a));
      for (const inner of best) reportIssue(inner, path, ctx);
      return;
    }
    case 'too_small':
    case 'too_big': {
      const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? 'at least' : 'at most';
      const unit =
        issue.origin === 'array' ? ' items' : issue.origin === 'string' ? ' characters' : '';
      add(
        'INVALID_VALUE',
        customMessage(issue) ??
          `must be ${word} ${String(limit)}${unit}, got ${describeValue(value)}${from}`,
      );
      return;
    }
    case 'invalid_key': {
      const key = String(path.at(-1));
      const inner = issue.issues[0]?.message ?? 'not a valid key';
      add('INVALID_NAME', `'${key}': ${inner}`, ctx.locator.keyLoc(path.slice(0, -1), key) ?? loc);
      return;
    }
    case 'custom': {
      const code = (issue.params as { code?: string } | undefined)?.code;
      add(isErrorCode(code) ? code : 'INVALID_VALUE', `${issue.message}${from}`);
      return;
    }
    default:
      add('INVALID_VALUE', `${issue.message}${from}`);
  }
}

function isErrorCode(code: string | undefined): code is ErrorCode {
  return code !== undefined && Object.hasOwn(errorCodes, code);
}

/** Zod's own wording is generic; keep messages we wrote ourselves. */
function customMessage(issue: Issue): string | undefined {
  const m = issue.message;
  return m.startsWith('Invalid input') || m.startsWith('Too ') || m.startsWith('Invalid ')
    ? undefined
    : m;
}

function expectedText(expected: string): string {
  const words: Record<string, string> = {
    object: 'a mapping',
    record: 'a mapping',
    array: 'a list',
    int: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'a boolean',
  };
  return words[expected] ?? expected;
}

function singleKey(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 ? keys[0] : undefined;
}

function functionLike(key: string): boolean {
  return functionNames.has(key) || unknownFunctionHint(key) !== '';
}

export function valueAt(input: unknown, path: Path): unknown {
  let current = input;
  for (const part of path) {
    if (current === null || typeof current !== 'object' || isUnknown(current)) return current;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

/** The keys an object schema allows at a path (all union branches together). */
export function keysAt(schema: z.ZodType, path: Path): string[] {
  const keys = new Set<string>();
  const visit = (s: unknown, rest: Path, depth: number): void => {
    if (depth > 40 || s === undefined) return;
    const def = (s as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return;
    switch (def['type']) {
      case 'object': {
        const shape = def['shape'] as Record<string, unknown>;
        if (rest.length === 0) for (const k of Object.keys(shape)) keys.add(k);
        else visit(shape[String(rest[0])], rest.slice(1), depth + 1);
        return;
      }
      case 'array':
        if (rest.length > 0) visit(def['element'], rest.slice(1), depth + 1);
        return;
      case 'record':
        if (rest.length > 0) visit(def['valueType'], rest.slice(1), depth + 1);
        return;
      case 'union':
        for (const option of def['options'] as unknown[]) visit(option, rest, depth + 1);
        return;
      case 'pipe':
        visit(def['in'], rest, depth + 1);
        return;
      case 'intersection':
        visit(def['left'], rest, depth + 1);
        visit(def['right'], rest, depth + 1);
        return;
      default:
        if ('innerType' in def) visit(def['innerType'], rest, depth + 1);
    }
  };
  visit(schema, path, 0);
  return [...keys];
}
