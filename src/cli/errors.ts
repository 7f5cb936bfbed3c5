import { EngineError, InvalidTemplateError, StackNameError } from '../engine/index.js';
import { StoreError } from '../store/index.js';
import { formatDiagnostic } from '../template/index.js';

import type { CliContext } from './context.js';
import { exitCodes } from './exit-codes.js';

/** A CLI usage problem found by a command itself. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** The one place where failures become messages and exit statuses. */
export function reportError(error: unknown, ctx: CliContext): number {
  const write = (text: string): void => void ctx.stderr.write(`${text}\n`);
  if (error instanceof InvalidTemplateError) {
    for (const d of error.diagnostics) write(formatDiagnostic(d));
    return exitCodes.invalid;
  }
  if (error instanceof UsageError || error instanceof StackNameError) {
    write(`drover: ${error.message}`);
    return exitCodes.invalid;
  }
  if (error instanceof StoreError) {
    write(`drover: state store: ${error.message}`);
    return exitCodes.environment;
  }
  if (error instanceof EngineError) {
    write(`drover: ${error.message}`);
    return exitCodes.failed;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  write(`drover: unexpected failure (please report it): ${message}`);
  return exitCodes.failed;
}
