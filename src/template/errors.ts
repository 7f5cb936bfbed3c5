/**
 * Every problem Drover finds in a template has a stable code. The table is the
 * reference users see (`drover validate --codes`) and the one tests walk.
 */
export const errorCodes = {
  YAML_SYNTAX: 'the file is not well-formed YAML or JSON',
  DUPLICATE_KEY: 'a mapping names the same key twice',
  ALIAS_BOMB: 'YAML aliases expand to more nodes than any template needs',
  TOO_LARGE: 'the file is larger than a template may be',
  TOO_DEEP: 'values are nested deeper than a template may nest them',
  NOT_A_MAPPING: 'the template or one of its sections is not a mapping',
  VERSION_MISSING: 'drover_template_version is missing',
  VERSION_UNKNOWN: 'drover_template_version names a version Drover does not know',
  UNKNOWN_SECTION: 'a top-level section Drover does not know',
  UNKNOWN_KEY: 'a key that does not belong where it is',
  UNKNOWN_TYPE: 'a resource type Drover does not know',
  UNKNOWN_PROPERTY: 'a resource property its type does not have',
  UNKNOWN_FUNCTION: 'a value that looks like an intrinsic function Drover does not have',
  UNKNOWN_ATTRIBUTE: 'get_attr asks for an attribute the resource type does not have',
  FUNCTION_ARGS: 'an intrinsic function is called with arguments of the wrong shape',
  FUNCTION_NOT_ALLOWED: 'an intrinsic function where only literal values may stand',
  TYPE: 'a value has the wrong type',
  REQUIRED: 'a required key or property is missing',
  INVALID_VALUE: 'a value has the right type but is not acceptable',
  INVALID_NAME: 'a parameter, resource, output, condition or mapping name is not valid',
  MISSING_PARAMETER: 'a reference to a parameter that is not declared',
  MISSING_RESOURCE: 'a reference to a resource that is not declared',
  MISSING_CONDITION: 'a reference to a condition that is not declared',
  MISSING_MAPPING: 'find_in_map names a mapping or key that is not declared',
  REF_TYPE: 'a reference points at a resource of the wrong type',
  REF_DISABLED: 'a value refers to a resource that its condition leaves out',
  CONSTRAINT: 'a parameter value fails one of its constraints',
  PARAMETER_VALUE: 'a parameter value is missing, unknown or not of the parameter type',
  CYCLE: 'resources or conditions depend on each other in a circle',
  MISSING_CONTEXT: 'an artifact context directory or its Dockerfile does not exist',
  MISSING_FILE: 'a nested template or get_file path does not exist',
  PATH_ESCAPE: 'a path leaves the directory tree it must stay in',
  NESTED_RECURSION: 'nested stacks include each other',
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** Where a problem is: 1-based line and column, as editors count them. */
export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Diagnostic {
  readonly code: ErrorCode;
  readonly message: string;
  /** Absent for problems that have no place in a file (e.g. a `-p` argument). */
  readonly loc?: Loc;
  /** The file when there is no position inside it (e.g. "-p" or a missing file). */
  readonly source?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.col}` : (d.source ?? 'drover');
  return `${where}: error ${d.code}: ${d.message}`;
}

/** Diagnostics in file, line, column order, without exact repeats. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique = list.filter((d) => {
    const key = formatDiagnostic(d);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort(
    (a, b) =>
      (a.loc?.file ?? a.source ?? '').localeCompare(b.loc?.file ?? b.source ?? '') ||
      (a.loc?.line ?? 0) - (b.loc?.line ?? 0) ||
      (a.loc?.col ?? 0) - (b.loc?.col ?? 0),
  );
}

/** Thrown by the library entry points when a template cannot be used. */
export class TemplateError extends Error {
  readonly code = 'TEMPLATE_INVALID';
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    options?: { cause?: unknown },
  ) {
    super(
      `${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'} in the template:\n` +
        diagnostics.map(formatDiagnostic).join('\n'),
      options,
    );
    this.name = 'TemplateError';
  }
}

/** Collects diagnostics while a template is checked; nothing stops at the first. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];

  add(code: ErrorCode, message: string, loc: Loc | undefined, source?: string): void {
    this.list.push(loc ? { code, message, loc } : { code, message, source });
  }

  get size(): number {
    return this.list.length;
  }
}
