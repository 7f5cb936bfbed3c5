import { PassThrough } from 'node:stream';

import { main } from './index.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process with captured output and the given environment. */
export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  tty = false,
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
  const code = await main(['node', 'drover', ...args], { env, stdout, stderr });
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
