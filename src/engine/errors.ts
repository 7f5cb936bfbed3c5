import { DroverError } from '../errors.js';
import type { Diagnostic } from '../template/index.js';
import { formatDiagnostic } from '../template/index.js';

/** Base class of engine failures; `code` is stable and machine-readable. */
export class EngineError extends DroverError {}

/** The template (or its parameter values) has problems; nothing was changed. */
export class InvalidTemplateError extends EngineError {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(
      'TEMPLATE_INVALID',
      `${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'}:\n${diagnostics.map(formatDiagnostic).join('\n')}`,
    );
  }
}

/** A stack file or name that cannot be used. */
export class StackNameError extends EngineError {
  constructor(message: string) {
    super('STACK_NAME', message);
  }
}

/** A stack, resource, revision or instance that does not exist. */
export class NotFoundError extends EngineError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}
