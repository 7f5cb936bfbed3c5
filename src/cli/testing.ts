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
export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  tty = false,
  options: RunOptions = {},
): Promise<CliRun> {
  const capture = (): PassThrough & { isTTY?: boolean; text: () => string } => {
    const stream = new PassThrough() as PassThrough & { isTTY?: boolean; text: () => string };
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.text = () => Buffer.concat(chunks).toString('utf8');
    stream.isTTY = tty;
    return stream;
  };
  const stdout = capture();
  const stderr = capture();
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
