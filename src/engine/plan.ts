import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { Plan, RecordedState } from '../plan/index.js';
import { emptyState, planStack } from '../plan/index.js';
import { openDefaultStore } from '../store/index.js';
import type { Diagnostic, ParameterInput, ResolvedStack } from '../template/index.js';
import { compileStack } from '../template/index.js';

import { InvalidTemplateError } from './errors.js';
import { loadKey } from './keys.js';
import { readRecordedState } from './records.js';

export interface StackRequest {
  readonly file: string;
  readonly stack: string;
  readonly parameters: readonly ParameterInput[];
  /** $DROVER_HOME */
  readonly home: string;
  readonly proxyUrl?: string;
}

export interface ValidateResult {
  readonly diagnostics: readonly Diagnostic[];
  readonly requiredParameters: readonly string[];
}

/** Checks a template; values for parameters are optional. Touches nothing on disk. */
export async function validateStack(request: StackRequest): Promise<ValidateResult> {
  const result = await compileStack(request.file, {
    stack: request.stack,
    mode: 'validate',
    parameters: request.parameters,
    // Digests made while validating are thrown away: any key will do.
    hiddenKey: randomBytes(32),
    home: request.home,
    proxyUrl: request.proxyUrl,
  });
  return { diagnostics: result.diagnostics, requiredParameters: result.requiredParameters };
}

/**
 * What an apply of the template would change, against the state recorded in
 * $DROVER_HOME. Read-only: a machine that never applied anything plans every
 * resource as a create and no file is written.
 */
export async function planStackFile(
  request: StackRequest,
): Promise<{ plan: Plan; stack: ResolvedStack }> {
  const recordedKey = loadKey(request.home, 'hidden', false);
  const result = await compileStack(request.file, {
    stack: request.stack,
    mode: 'plan',
    parameters: request.parameters,
    hiddenKey: recordedKey ?? randomBytes(32),
    home: request.home,
    proxyUrl: request.proxyUrl,
  });
  if (result.stack === undefined) throw new InvalidTemplateError(result.diagnostics);
  const recorded = await readState(request.home, request.stack);
  return { plan: planStack(result.stack, recorded), stack: result.stack };
}

async function readState(home: string, stack: string): Promise<RecordedState> {
  if (!existsSync(join(home, 'state.db'))) return emptyState(stack);
  const store = openDefaultStore(home);
  try {
    return await readRecordedState(store, stack);
  } finally {
    await store.close();
  }
}
