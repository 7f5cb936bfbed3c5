import { DroverError } from '../errors.js';

/** Base class of artifact failures; `code` is stable and machine-readable. */
export class ArtifactError extends DroverError {}

/** The context directory cannot be snapshotted as it is. */
export class ContextError extends ArtifactError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARTIFACT_CONTEXT', message, options);
  }
}
