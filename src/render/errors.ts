import { DroverError } from '../errors.js';

/** Base class of every config-template failure; `code` is stable and machine-readable. */
export class RenderError extends DroverError {}

/**
 * The template is not valid Handlebars, or calls a helper or partial that does
 * not exist. `line` and `column` are 1-based; retrying can never succeed.
 */
export class TemplateSyntaxError extends RenderError {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    options?: { cause?: unknown },
  ) {
    super('TEMPLATE_SYNTAX', `${line}:${column}: ${reason}`, options);
  }
}

/** Rendering failed at run time (a helper threw, a block got the wrong kind of value). */
export class TemplateRenderError extends RenderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TEMPLATE_RENDER', message, options);
  }
}

/** The rendered text could not be written to its destination. */
export class DestinationWriteError extends RenderError {
  constructor(
    readonly destination: string,
    options?: { cause?: unknown },
  ) {
    super('RENDER_WRITE', `cannot write ${destination}: ${reasonOf(options?.cause)}`, options);
  }
}

/** The reload command could not start, exited non-zero or was killed. */
export class ReloadError extends RenderError {
  constructor(
    message: string,
    /** What the command printed (stdout and stderr interleaved, the tail when long). */
    readonly output: string,
    options?: { cause?: unknown; code?: string },
  ) {
    super(options?.code ?? 'RELOAD_FAILED', message, options);
  }
}

/** The reload command ran longer than its time limit and was killed. */
export class ReloadTimeoutError extends ReloadError {
  constructor(
    readonly timeoutMs: number,
    output: string,
  ) {
    super(`reload did not finish within ${timeoutMs} ms and was killed`, output, {
      code: 'RELOAD_TIMEOUT',
    });
  }
}

/** Following the registry failed (the store closed, history was compacted…). */
export class RegistryFollowError extends RenderError {
  constructor(options?: { cause?: unknown }) {
    super('RENDER_REGISTRY', `cannot follow the registry: ${reasonOf(options?.cause)}`, options);
  }
}

export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A renderer was constructed with options that can never work. */
export class RendererOptionsError extends RenderError {
  constructor(message: string) {
    super('RENDER_INVALID_OPTIONS', message);
  }
}

/** `start()` on a renderer that was already started or closed. */
export class RendererStateError extends RenderError {
  constructor(message: string) {
    super('RENDER_STATE', message);
  }
}
