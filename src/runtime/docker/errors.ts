import { RuntimeError } from '../errors.js';

// The shared base classes live one level up so that both drivers throw the
// same `RuntimeError`/`RuntimeUnavailableError` (instanceof works across drivers).
export { RuntimeError, RuntimeUnavailableError, StartError } from '../errors.js';

/** `docker build` failed; the message ends with the last lines of the build log. */
export class BuildFailedError extends RuntimeError {
  constructor(
    message: string,
    /** Where the whole build log is kept. */
    readonly logFile: string,
    options?: { cause?: unknown },
  ) {
    super('RUNTIME_BUILD_FAILED', message, options);
  }
}

/** The handle names a container that does not exist (any more). */
export class InstanceNotFoundError extends RuntimeError {
  constructor(
    readonly instance: string,
    options?: { cause?: unknown },
  ) {
    super('RUNTIME_INSTANCE_NOT_FOUND', `instance ${instance} has no container`, options);
  }
}

/** What was asked cannot run on this runtime (a snapshot artifact, a bad mount…). */
export class InvalidSpecError extends RuntimeError {
  constructor(message: string) {
    super('RUNTIME_INVALID_SPEC', message);
  }
}

/** The engine answered with an error Drover has no better name for; `cause` has it. */
export class DockerApiError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_DOCKER_API', message, options);
  }
}

/** The runtime was closed (or its signal aborted); make a new one. */
export class RuntimeClosedError extends RuntimeError {
  constructor() {
    super('RUNTIME_CLOSED', 'the Docker runtime is closed');
  }
}
