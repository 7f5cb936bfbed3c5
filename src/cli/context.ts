import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** An output stream; a terminal says so, and its size. */
export type Terminal = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };

/** What every command needs from its environment, passed in so tests can set it. */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: Terminal;
  readonly stderr: Terminal;
  /** For confirmations; absent or not a TTY means nobody can answer. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Ends commands that run until interrupted (`events --follow`), besides Ctrl-C. */
  readonly signal?: AbortSignal;
}

export interface GlobalOptions {
  readonly home?: string;
  readonly color?: boolean;
}

/** $DROVER_HOME, else ~/.drover; `--home` wins over both. */
export function droverHome(ctx: CliContext, options: GlobalOptions): string {
  return resolve(options.home ?? ctx.env['DROVER_HOME'] ?? join(homedir(), '.drover'));
}

/** Colour only for a terminal, never with NO_COLOR or --no-color; FORCE_COLOR forces it. */
export function useColor(
  ctx: CliContext,
  options: GlobalOptions,
  stream: { isTTY?: boolean } = ctx.stdout,
): boolean {
  if (options.color === false || (ctx.env['NO_COLOR'] ?? '') !== '') return false;
  if ((ctx.env['FORCE_COLOR'] ?? '') !== '' && ctx.env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true;
}

/**
 * Whether progress may redraw its lines in place (cursor movement): only on a
 * terminal that can. Colour is a separate choice (`useColor`): NO_COLOR keeps
 * the live display, without colour.
 */
export function useLiveProgress(
  ctx: CliContext,
  stream: { isTTY?: boolean } = ctx.stdout,
): boolean {
  return stream.isTTY === true && ctx.env['TERM'] !== 'dumb';
}
