import { EngineError, InvalidTemplateError, StackNameError } from '../engine/index.js';
import { DroverError } from '../errors.js';
import { StoreError } from '../store/index.js';
import { formatDiagnostic } from '../template/index.js';

import type { CliContext } from './context.js';
import { exitCodes } from './exit-codes.js';

/** A CLI usage problem found by a command itself. */
export class UsageError extends DroverError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Nothing answers at the daemon's address. */
export class DaemonUnreachableError extends DroverError {
  constructor(
    readonly url: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      'NO_DAEMON',
      `no Drover daemon at ${url} (start one with \`drover serve\` or \`drover up FILE\`)`,
      options,
    );
  }
}

/** The daemon went away in the middle of an answer (it stopped or restarted). */
export class DaemonConnectionLostError extends DroverError {
  constructor(url: string, options: { cause?: unknown } = {}) {
    super(
      'DAEMON_LOST',
      `lost the connection to the daemon at ${url}; what it was doing may go on: see \`drover status\` and \`drover events\``,
      options,
    );
  }
}

/** Something answered at the daemon's address, but not the way a Drover daemon does. */
export class DaemonProtocolError extends DroverError {
  constructor(url: string, what: string) {
    super('NOT_A_DAEMON', `${url} answered, but not as a Drover daemon: ${what}`);
  }
}

/** The daemon refused or failed a request; `code` is the API's error code. */
export class ApiRequestError extends DroverError {
  constructor(
    code: string,
    message: string,
    readonly details: readonly string[] = [],
    /** The HTTP status, when the failure came as one (not as the last line of a stream). */
    readonly status?: number,
  ) {
    super(code, message);
  }
}

/** Exit statuses of the API's error codes; the rest are failed operations. */
const exitByApiCode: Record<string, number> = {
  INVALID_REQUEST: exitCodes.invalid,
  STACK_NAME: exitCodes.invalid,
  TEMPLATE_INVALID: exitCodes.invalid,
  NOT_FOUND: exitCodes.invalid,
  PAYLOAD_TOO_LARGE: exitCodes.invalid,
  // Refused as things stand (a token revoking itself); nothing changed.
  CONFLICT: exitCodes.invalid,
  UNAUTHENTICATED: exitCodes.environment,
  FORBIDDEN: exitCodes.environment,
};

/** Failures of the machine rather than of the request: Drover could not work (exit 3). */
const environmentCodes = new Set(['PROXY_LISTEN', 'API_LISTEN', 'HOME_IN_USE']);

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
  if (
    error instanceof DaemonUnreachableError ||
    error instanceof DaemonConnectionLostError ||
    error instanceof DaemonProtocolError
  ) {
    write(`drover: ${error.message}`);
    return exitCodes.environment;
  }
  if (error instanceof ApiRequestError) {
    // Template problems read exactly as `drover validate` prints them.
    if (error.code !== 'TEMPLATE_INVALID') write(`drover: ${error.message}`);
    for (const line of error.details) write(line);
    return exitByApiCode[error.code] ?? exitCodes.failed;
  }
  if (error instanceof DroverError && environmentCodes.has(error.code)) {
    write(`drover: ${error.message}`);
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
