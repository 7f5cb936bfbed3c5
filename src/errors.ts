/**
 * The base of every Drover failure: a stable machine-readable `code`, a
 * message for people, and the underlying `cause`. Each layer names its own
 * kinds in its `errors.ts`; the CLI and the API map them to exit codes and
 * HTTP responses in one place each.
 */
export class DroverError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
