import { PassThrough } from 'node:stream';

import { main } from './index.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** What a person types; given, standard input is a terminal. */
  readonly input?: string;
  /** Ends commands that run until Ctrl-C. */
  readonly signal?: AbortSignal;
}

/** Runs the CLI in-process with captured output and the given environment. */
/** A stream to give the CLI as stdout or stderr; `text()` is everything written to it so far. */
export function capture(tty = false): PassThrough & { isTTY?: boolean; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; text: () => string };
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.text = () => Buffer.concat(chunks).toString('utf8');
  stream.isTTY = tty;
  return stream;
}

export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  tty = false,
  options: RunOptions = {},
): Promise<CliRun> {
  const stdout = capture(tty);
  const stderr = capture(tty);
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = options.input !== undefined;
  stdin.end(options.input ?? '');
  const code = await main(['node', 'drover', ...args], {
    env,
    stdout,
    stderr,
    stdin,
    signal: options.signal,
  });
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * What a terminal shows after `text` is written to it: the lines, with the
 * cursor movement the live progress uses (CR, cursor up, erase line) played
 * and colour codes dropped. Trailing empty lines are left out.
 */
export function screen(text: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  // eslint-disable-next-line no-control-regex -- terminal escapes are what is parsed
  const tokens = text.match(/\u001b\[[0-9;]*[A-Za-z]|\r|\n|[^\u001b\r\n]+/g) ?? [];
  for (const token of tokens) {
    if (token === '\n') {
      row += 1;
      col = 0;
      lines[row] ??= '';
    } else if (token === '\r') {
      col = 0;
    } else if (token.startsWith('\u001b[')) {
      const n = Number(token.slice(2, -1) || 1);
      if (token.endsWith('A')) row = Math.max(0, row - n);
      else if (token.endsWith('K')) lines[row] = '';
    } else {
      const current = lines[row] ?? '';
      lines[row] = current.slice(0, col).padEnd(col) + token + current.slice(col + token.length);
      col += token.length;
    }
  }
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}
