import { TemplateRenderError } from './errors.js';

/**
 * The helpers a config template may call, with how many arguments each
 * takes, so that a wrong call is reported when the template is checked rather
 * than when a registry change first renders it.
 */
export interface HelperSpec {
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Receives the arguments without Handlebars' trailing options object. */
  readonly fn: (...args: unknown[]) => unknown;
}

export const ownHelpers: Readonly<Record<string, HelperSpec>> = {
  /** `{{#if (eq service "web")}}`: strict equality. */
  eq: { minArgs: 2, maxArgs: 2, fn: (a, b) => a === b },
  /** `{{join list ", "}}`: values as text; a missing list renders nothing. */
  join: {
    minArgs: 1,
    maxArgs: 2,
    fn: (list, separator = ', ') => {
      if (list === undefined || list === null) return '';
      if (!Array.isArray(list))
        throw new TemplateRenderError(`join expects a list, got ${typeof list}`);
      return list
        .map((item) => (typeof item === 'object' ? JSON.stringify(item) : String(item)))
        .join(String(separator));
    },
  },
  /** `{{json endpoints}}`: the value as JSON (for JSON config files, or quoting a string). */
  json: { minArgs: 1, maxArgs: 1, fn: (value) => JSON.stringify(value ?? null) },
};

/** Handlebars' own helpers that templates may use; `log` is left out: rendering prints nothing. */
export const builtinHelperArity: Readonly<Record<string, readonly [number, number]>> = {
  if: [1, 1],
  unless: [1, 1],
  each: [1, 1],
  with: [1, 1],
  lookup: [2, 2],
};
