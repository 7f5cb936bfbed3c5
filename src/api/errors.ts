import { EngineError, InvalidTemplateError } from '../engine/index.js';
import { DroverError } from '../errors.js';
import { formatDiagnostic } from '../template/index.js';

/** Base class of failures the API itself finds (input, auth, routing). */
export class ApiError extends DroverError {}

/** The request is malformed: a bad body, query or path segment. Nothing was changed. */
export class InvalidRequestError extends ApiError {
  constructor(
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super('INVALID_REQUEST', message);
  }
}

/**
 * What the request names does not exist. Defined here until the engine has
 * its own; the mapping below goes by `code`, so an engine error with code
 * NOT_FOUND maps the same way.
 */
export class NotFoundError extends ApiError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** No token, or one that does not verify. */
export class UnauthenticatedError extends ApiError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

/** A valid token whose role does not allow the route. */
export class ForbiddenError extends ApiError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/** The request cannot be done in the state things are in (e.g. a token revoking itself). */
export class ConflictError extends ApiError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(limit: number) {
    super('PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`);
  }
}

/** The one error shape of every response: `{ error: { code, message, details? } }`. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details?: readonly string[];
  };
}

export interface ErrorResponse {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 500;
  readonly body: ErrorBody;
  /** True when the failure is ours, not the caller's: worth logging with its stack. */
  readonly unexpected: boolean;
}

/** HTTP statuses of the stable codes callers can act on; other codes are 500s. */
const statusByCode: Record<string, ErrorResponse['status']> = {
  INVALID_REQUEST: 400,
  STACK_NAME: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TEMPLATE_INVALID: 422,
};

/**
 * The one place where failures become HTTP responses. Engine errors keep their
 * code and message (they are written for people and never carry secrets);
 * anything else is a bug or a broken dependency: a generic 500, with the
 * detail left to the daemon's log, so no internals leak to callers.
 */
export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof InvalidTemplateError) {
    const details = error.diagnostics.map(formatDiagnostic);
    const message = `the template has ${details.length} problem${details.length === 1 ? '' : 's'}`;
    return reply(422, error.code, message, details);
  }
  if (error instanceof ApiError || error instanceof EngineError) {
    const details = error instanceof InvalidRequestError ? error.details : [];
    const status = statusByCode[error.code];
    if (status !== undefined) return reply(status, error.code, error.message, details);
    return { ...reply(500, error.code, error.message, details), unexpected: true };
  }
  return {
    ...reply(500, 'INTERNAL', 'internal error; the daemon log has the details'),
    unexpected: true,
  };
}

function reply(
  status: ErrorResponse['status'],
  code: string,
  message: string,
  details: readonly string[] = [],
): ErrorResponse {
  const body = { error: { code, message, ...(details.length > 0 ? { details } : {}) } };
  return { status, body, unexpected: false };
}

/** The API server could not listen (the address is in use, or not ours to take). */
export class ListenError extends DroverError {
  constructor(address: string, options: { cause: unknown }) {
    super(
      'API_LISTEN',
      `the API cannot listen on ${address}: ${(options.cause as Error).message}`,
      options,
    );
  }
}
