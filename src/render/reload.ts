import { spawn } from 'node:child_process';

import { ReloadError, ReloadTimeoutError } from './errors.js';

/** Output beyond this is cut from the front: the end of a failure says most. */
const OUTPUT_LIMIT = 16 * 1024;

/** After exit, how long to wait for the output pipes to close (a grandchild may hold them). */
const PIPE_GRACE_MS = 200;

export interface ReloadOptions {
  readonly timeoutMs: number;
  /** Aborting kills the command; the promise then rejects with a ReloadError. */
  readonly signal?: AbortSignal;
}

/**
 * Runs a reload command (argv, never a shell) and resolves with its output
 * (stdout and stderr as they came) when it exits 0. Rejects with ReloadError
 * when it cannot start, exits non-zero or dies by a signal, and
 * ReloadTimeoutError when it outlives `timeoutMs`: it is then killed with
 * SIGKILL, since a hung reload must not hold up every later render.
 */
export function runReload(argv: readonly string[], options: ReloadOptions): Promise<string> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new ReloadError('the reload argv is empty', ''));
  return new Promise((resolve, reject) => {
    let output = '';
    let done = false;
    let timedOut = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let grace: NodeJS.Timeout | undefined;

    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);

    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', kill, { once: true });

    const finish = (startError?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(grace);
      options.signal?.removeEventListener('abort', kill);
      child.stdout.destroy();
      child.stderr.destroy();
      const error = failure(file, output, { startError, timedOut, exit, ...options });
      if (error === undefined) resolve(output);
      else reject(error);
    };

    child.on('error', (error) => finish(error));
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Output still in the pipes belongs in the result; wait for it, briefly.
      grace = setTimeout(() => finish(), PIPE_GRACE_MS);
    });
    child.on('close', () => finish());
  });
}

function failure(
  file: string,
  output: string,
  state: {
    startError: Error | undefined;
    timedOut: boolean;
    exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    timeoutMs: number;
    signal?: AbortSignal;
  },
): ReloadError | undefined {
  if (state.startError !== undefined) {
    return new ReloadError(`cannot run ${file}: ${state.startError.message}`, output, {
      cause: state.startError,
    });
  }
  if (state.timedOut) return new ReloadTimeoutError(state.timeoutMs, output);
  if (state.signal?.aborted) return new ReloadError(`${file} was stopped: closing`, output);
  const code = state.exit?.code;
  if (code === 0) return undefined;
  const how =
    code === null || code === undefined
      ? `was killed by ${String(state.exit?.signal)}`
      : `exited with ${code}`;
  const said = output.trim() === '' ? '' : `: ${output.trim().split('\n').at(-1) ?? ''}`;
  return new ReloadError(`${file} ${how}${said}`, output);
}
