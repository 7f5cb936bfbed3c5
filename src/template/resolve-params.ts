import type { Diagnostics, Loc } from './errors.js';
import type { Template } from './load.js';
import { coerceParameter, constraintFailures, misfitConstraints } from './parameters.js';
import type { ParameterDecl } from './sections.js';
import { didYouMean } from './suggest.js';
import type { Value } from './values.js';
import { containsUnknown, Hidden, isUnknown, reveal, UNKNOWN } from './values.js';

export interface GivenValue {
  readonly value: Value;
  /** Text from `-p` to be read as the parameter's type. */
  readonly fromText: boolean;
  readonly loc?: Loc;
  readonly source: string;
}

/**
 * The value of every parameter: given, else default, else (validation only)
 * unknown. Hidden parameters' values come back wrapped in Hidden.
 */
export function resolveParameters(
  template: Template,
  given: ReadonlyMap<string, GivenValue>,
  mode: 'validate' | 'plan',
  diagnostics: Diagnostics,
): Map<string, Value> {
  const values = new Map<string, Value>();
  for (const [name, param] of template.parameters) {
    const decl = param.decl;
    checkDeclaration(param.name, decl, template, diagnostics);
    const input = given.get(name);
    let value: Value = UNKNOWN;
    if (input !== undefined) {
      value = checkGiven(name, decl, input, diagnostics);
    } else if (decl.default !== undefined) {
      value = checkDefault(name, decl, param.defaultLoc ?? param.loc, diagnostics);
    } else if (mode === 'plan') {
      diagnostics.add(
        'PARAMETER_VALUE',
        `parameter '${name}' has no default and needs a value: -p ${name}=VALUE or --parameters FILE`,
        param.loc,
      );
    }
    values.set(name, decl.hidden && !isUnknown(value) ? new Hidden(value) : value);
  }
  for (const [name, input] of given) {
    if (template.parameters.has(name)) continue;
    diagnostics.add(
      'PARAMETER_VALUE',
      `the template has no parameter '${name}'${didYouMean(name, template.parameters.keys())}`,
      input.loc,
      input.source,
    );
  }
  return values;
}

const checkedDeclarations = new WeakMap<ParameterDecl, true>();

/** Constraint kinds that cannot apply to the type; checked once per declaration. */
function checkDeclaration(
  name: string,
  decl: ParameterDecl,
  template: Template,
  diagnostics: Diagnostics,
): void {
  if (checkedDeclarations.has(decl)) return;
  checkedDeclarations.set(decl, true);
  for (const misfit of misfitConstraints(decl)) {
    diagnostics.add(
      'INVALID_VALUE',
      `parameter '${name}' is a ${decl.type}; constraint ${misfit.kind} does not apply to it`,
      template.parameters.get(name)?.loc,
    );
  }
}

function checkDefault(
  name: string,
  decl: ParameterDecl,
  loc: Loc,
  diagnostics: Diagnostics,
): Value {
  const value = decl.default;
  const typed =
    decl.type === 'string'
      ? typeof value === 'string'
        ? { ok: true as const, value }
        : {
            ok: false as const,
            message: `expected a string (quote it), got ${JSON.stringify(value)}`,
          }
      : coerceParameter(decl.type, value, false, decl.hidden);
  if (!typed.ok) {
    diagnostics.add('TYPE', `default of parameter '${name}' (${decl.type}): ${typed.message}`, loc);
    return UNKNOWN;
  }
  const failures = constraintFailures(decl, typed.value);
  for (const failure of failures) {
    diagnostics.add('CONSTRAINT', `default of parameter '${name}': ${failure}`, loc);
  }
  // A value that failed is not used further: one mistake, one message.
  return failures.length > 0 ? UNKNOWN : typed.value;
}

function checkGiven(
  name: string,
  decl: ParameterDecl,
  input: GivenValue,
  diagnostics: Diagnostics,
): Value {
  const raw = input.value;
  if (containsUnknown(raw)) return UNKNOWN;
  const hidden = decl.hidden || raw instanceof Hidden;
  const typed = coerceParameter(decl.type, reveal(raw), input.fromText, hidden);
  const where = input.loc;
  const source = input.source;
  if (!typed.ok) {
    diagnostics.add(
      'PARAMETER_VALUE',
      `parameter '${name}' is a ${decl.type}: ${typed.message}`,
      where,
      source,
    );
    return UNKNOWN;
  }
  const failures = constraintFailures({ ...decl, hidden }, typed.value);
  for (const failure of failures) {
    diagnostics.add('CONSTRAINT', `parameter '${name}': ${failure}`, where, source);
  }
  if (failures.length > 0) return UNKNOWN;
  return raw instanceof Hidden ? new Hidden(typed.value) : typed.value;
}
