import { DroverError } from '../errors.js';

/** Base class of runtime failures; `code` is stable and machine-readable. */
export class RuntimeError extends DroverError {}

/** The runtime cannot be used here (e.g. no Docker engine answering). */
export class RuntimeUnavailableError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_UNAVAILABLE', message, options);
  }
}

/** An instance could not be started. */
export class StartError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_START_FAILED', message, options);
  }
}

/** No free port in the configured range. */
export class PortsExhaustedError extends RuntimeError {
  constructor(
    readonly min: number,
    readonly max: number,
  ) {
    super(
      'RUNTIME_PORTS_EXHAUSTED',
      `no free port between ${min} and ${max}; widen the port range`,
    );
  }
}
