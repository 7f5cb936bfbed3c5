import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';

export interface BuildRun {
  /** argv; run directly, never through a shell. */
  readonly argv: readonly string[];
  /** The scratch copy of the context the build runs in. */
  readonly cwd: string;
  /** Standard output and error both go here, appended. */
  readonly logPath: string;
  readonly timeoutMs: number;
  /** How long SIGTERM has before SIGKILL, after the time limit or an abort. */
  readonly killGraceMs: number;
  readonly signal?: AbortSignal;
}

export type BuildOutcome =
  | { readonly status: 'succeeded' }
  | {
      readonly status: 'failed';
      readonly exitCode: number | null;
      readonly signal: string | null;
      /** The build could not be started, or its processes could not be stopped. */
      readonly error?: unknown;
    }
  | { readonly status: 'timeout' }
  | { readonly status: 'aborted' };

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * What a build sees of Drover's environment: PATH, HOME and LANG, nothing else
 * (no tokens or credentials that happen to be set), and DROVER_BUILD=1.
 */
export function buildEnvironment(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? DEFAULT_PATH };
  for (const name of ['HOME', 'LANG'] as const) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env['DROVER_BUILD'] = '1';
  return env;
}

/**
 * Runs a build argv in its own process group, so that everything it starts
 * can be stopped together: on the time limit or an abort the group gets
 * SIGTERM, then SIGKILL after `killGraceMs`; and once the build's first process
 * exits, whatever it left running in the group is killed, so that a build
 * never leaves processes behind. (A process that starts its own session
 * escapes the group; containing that needs cgroups.)
 */
export async function runBuild(run: BuildRun): Promise<BuildOutcome> {
  const log = await open(run.logPath, 'a', 0o644);
  try {
    const started = Date.now();
    await log.write(
      `# drover build ${JSON.stringify(run.argv)} (time limit ${run.timeoutMs} ms)\n`,
    );
    const outcome = await supervise(run, log.fd);
    await log.write(`\n# ${describe(outcome)} after ${Date.now() - started} ms\n`);
    return outcome;
  } finally {
    await log.close();
  }
}

function supervise(run: BuildRun, logFd: number): Promise<BuildOutcome> {
  return new Promise((resolve) => {
    const [file, ...args] = run.argv;
    if (file === undefined || run.signal?.aborted === true) {
      resolve(file === undefined ? failed(new Error('empty build argv')) : { status: 'aborted' });
      return;
    }
    let settled = false;
    let stopping: 'timeout' | 'aborted' | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let killError: unknown;

    const child = spawn(file, args, {
      cwd: run.cwd,
      env: buildEnvironment(),
      detached: true, // a new session and process group, led by the child
      stdio: ['ignore', logFd, logFd],
    });
    const pid = child.pid;

    const signalGroup = (signal: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, signal);
      } catch (error) {
        // ESRCH: the group is already empty, which is what we want.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') killError ??= error;
      }
    };
    const stop = (why: 'timeout' | 'aborted'): void => {
      if (stopping !== undefined || settled) return;
      stopping = why;
      signalGroup('SIGTERM');
      graceTimer = setTimeout(() => signalGroup('SIGKILL'), run.killGraceMs);
    };
    const onAbort = (): void => stop('aborted');
    const timer = setTimeout(() => stop('timeout'), run.timeoutMs);
    run.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (outcome: BuildOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      run.signal?.removeEventListener('abort', onAbort);
      if (killError !== undefined && outcome.status === 'succeeded') {
        resolve(failed(killError));
        return;
      }
      resolve(outcome);
    };
    child.once('error', (error) => finish(failed(error)));
    child.once('exit', (exitCode, signal) => {
      signalGroup('SIGKILL');
      if (stopping !== undefined) finish({ status: stopping });
      else if (exitCode === 0) finish({ status: 'succeeded' });
      else finish({ status: 'failed', exitCode, signal });
    });
  });
}

function failed(error: unknown): BuildOutcome {
  return { status: 'failed', exitCode: null, signal: null, error };
}

/** One line for the log and for error messages. */
export function describe(outcome: BuildOutcome): string {
  switch (outcome.status) {
    case 'succeeded':
      return 'build succeeded';
    case 'timeout':
      return 'build ran out of time and was killed';
    case 'aborted':
      return 'build was cancelled';
    case 'failed':
      if (outcome.error !== undefined) {
        return `build failed: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`;
      }
      return outcome.signal !== null
        ? `build was killed by ${outcome.signal}`
        : `build exited with code ${String(outcome.exitCode)}`;
  }
}
