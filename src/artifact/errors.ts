import { DroverError } from '../errors.js';

/** Base class of artifact failures; `code` is stable and machine-readable. */
export class ArtifactError extends DroverError {}

/** The context directory cannot be snapshotted as it is. */
export class ContextError extends ArtifactError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARTIFACT_CONTEXT', message, options);
  }
}

/** The context no longer has the digest the plan was made with. */
export class ContextChangedError extends ArtifactError {
  constructor(
    readonly context: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      'ARTIFACT_CONTEXT_CHANGED',
      `context ${context} changed since it was planned (digest ${actual.slice(0, 12)}, planned ${expected.slice(0, 12)}); plan again`,
    );
  }
}

/**
 * An archive entry that would write outside the destination, through a link,
 * or create something other than a file, directory or link; or an archive over
 * the size or entry limits. `entry` is the entry's path as the archive wrote it.
 */
export class UnsafeArchiveError extends ArtifactError {
  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super('ARTIFACT_UNSAFE', `unsafe archive entry ${JSON.stringify(entry)}: ${reason}`);
  }
}

/** An archive that cannot be read (damaged, truncated) or a destination that cannot be written. */
export class UnpackError extends ArtifactError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARTIFACT_UNPACK', message, options);
  }
}

/** Stored bytes that no longer have the digest they were stored with. */
export class ArtifactCorruptError extends ArtifactError {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      'ARTIFACT_CORRUPT',
      `archive digest ${actual.slice(0, 12)} does not match the expected ${expected.slice(0, 12)}`,
    );
  }
}

export type BuildFailureCode =
  'ARTIFACT_BUILD_FAILED' | 'ARTIFACT_BUILD_TIMEOUT' | 'ARTIFACT_BUILD_ABORTED';

/** A build argv that failed, ran out of time or was cancelled; the log is kept at `logPath`. */
export class BuildError extends ArtifactError {
  declare readonly code: BuildFailureCode;

  constructor(
    code: BuildFailureCode,
    message: string,
    readonly details: {
      readonly logPath: string;
      /** The last lines of the log, for the error message people see first. */
      readonly logTail: string;
      readonly exitCode?: number | null;
      readonly signal?: string | null;
    },
    options?: { cause?: unknown },
  ) {
    super(code, `${message} (log: ${details.logPath})`, options);
  }

  get logPath(): string {
    return this.details.logPath;
  }

  get logTail(): string {
    return this.details.logTail;
  }
}

/** A request the artifact store cannot take (bad id, relative context, empty argv, …). */
export class InvalidBuildRequestError extends ArtifactError {
  constructor(message: string) {
    super('ARTIFACT_INVALID_REQUEST', message);
  }
}

export class ArtifactNotFoundError extends ArtifactError {
  constructor(readonly id: string) {
    super('ARTIFACT_NOT_FOUND', `artifact ${id} is not stored`);
  }
}

/** The artifact directory or its records could not be read or written. */
export class ArtifactStoreError extends ArtifactError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARTIFACT_STORE', message, options);
  }
}
