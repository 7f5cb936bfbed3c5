import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import type { Command } from 'commander';

import { ApiClient } from './api-client.js';
import type { CliContext, GlobalOptions } from './context.js';
import { droverHome } from './context.js';
import { UsageError } from './errors.js';

/** Where `drover serve` listens unless told otherwise (the API's default). */
const DEFAULT_API = 'http://127.0.0.1:7070';

export interface DaemonOptions {
  readonly api?: string;
}

/** The option every command that talks to the daemon takes. */
export function withApiOption(command: Command): Command {
  return command.option(
    '--api <url>',
    `the daemon's address (default: $DROVER_API or ${DEFAULT_API})`,
  );
}

/**
 * A client for the daemon: `--api`, else $DROVER_API, else the default
 * address; the token from $DROVER_TOKEN, else the admin token the daemon
 * leaves in `$DROVER_HOME/admin.token` (readable by its owner only).
 */
export function daemonClient(
  ctx: CliContext,
  globals: GlobalOptions,
  options: DaemonOptions,
): ApiClient {
  const baseUrl = options.api ?? nonEmpty(ctx.env['DROVER_API']) ?? DEFAULT_API;
  const fromEnv = nonEmpty(ctx.env['DROVER_TOKEN']);
  if (fromEnv !== undefined)
    return new ApiClient({ baseUrl, token: fromEnv, tokenSource: 'DROVER_TOKEN' });
  const file = join(droverHome(ctx, globals), 'admin.token');
  const token = readToken(file);
  return new ApiClient({
    baseUrl,
    token,
    tokenSource: token === undefined ? `nowhere: set DROVER_TOKEN, or make ${file} readable` : file,
  });
}

function readToken(file: string): string | undefined {
  try {
    return nonEmpty(readFileSync(file, 'utf8').trim());
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Not there, or not ours to read: the daemon will say the token is missing.
    if (code === 'ENOENT' || code === 'EACCES') return undefined;
    throw error;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Asks a yes/no question on the terminal. Without a terminal nobody can
 * answer, and a change nobody confirmed is not made: `--yes` is the way.
 */
export async function confirm(ctx: CliContext, question: string, what: string): Promise<boolean> {
  const stdin = ctx.stdin;
  if (stdin?.isTTY !== true) {
    throw new UsageError(
      `refusing to ${what} without confirmation: standard input is not a terminal (pass --yes)`,
    );
  }
  ctx.stderr.write(`${question} [y/N] `);
  const rl = createInterface({ input: stdin, terminal: false });
  try {
    // The end of input (Ctrl-D) is a no.
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** `STACK/RESOURCE` or `STACK`; resource names may hold dots (nested stacks), never a slash. */
export function splitTarget(target: string): { stack: string; resource?: string } {
  const slash = target.indexOf('/');
  if (slash < 0) return { stack: target };
  const stack = target.slice(0, slash);
  const resource = target.slice(slash + 1);
  if (stack === '' || resource === '' || resource.includes('/')) {
    throw new UsageError(`'${target}' is not STACK or STACK/RESOURCE`);
  }
  return { stack, resource };
}
