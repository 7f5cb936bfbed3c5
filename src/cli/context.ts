import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** What every command needs from its environment, passed in so tests can set it. */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
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
