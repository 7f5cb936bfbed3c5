import { readdir, readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import type Docker from 'dockerode';

import type { ExecResult, InstanceHandle } from '../runtime.js';

import { engineMessage, isNotFound } from './client.js';
import { DockerApiError, InstanceNotFoundError } from './errors.js';
import { containerRef } from './observe.js';
import { demux } from './streams.js';

/** How long the engine may take to record an exec's exit code after its output ended. */
const EXIT_CODE_WAIT_MS = 2_000;

/** A process (or thread) that ended while it was looked at, or one Drover may not look at. */
function gone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES';
}

/** The pids of a process's descendants, from /proc (empty when it cannot be read). */
async function descendants(pid: number): Promise<number[]> {
  const found: number[] = [];
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    let tasks: string[];
    try {
      tasks = await readdir(`/proc/${next}/task`);
    } catch (error) {
      if (gone(error)) continue;
      throw error;
    }
    for (const task of tasks) {
      let children: string;
      try {
        children = await readFile(`/proc/${next}/task/${task}/children`, 'utf8');
      } catch (error) {
        if (gone(error)) continue;
        throw error;
      }
      for (const child of children
        .split(' ')
        .filter((c) => c !== '')
        .map(Number)) {
        found.push(child);
        pending.push(child);
      }
    }
  }
  return found;
}

/**
 * The engine has no way to kill an exec. Its processes are on this machine
 * (the engine is reached through a local socket), so kill them by their host
 * pids: the exec's own and its descendants' (a shell's background jobs
 * would otherwise keep running, and keep the engine's stream open). Without
 * the right to (Drover not root), they run on until they end or the
 * container stops; the caller still gets its answer on time.
 */
async function killExecProcesses(pid: number): Promise<void> {
  if (pid <= 0) return;
  for (const target of [pid, ...(await descendants(pid))]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ESRCH: it ended by itself meanwhile. EPERM: see above.
      if (code !== 'ESRCH' && code !== 'EPERM') throw error;
    }
  }
}

/** Runs an argv inside the container (no shell), its stdout and stderr captured together. */
export async function execIn(
  docker: Docker,
  handle: InstanceHandle,
  argv: readonly string[],
  timeoutMs: number,
): Promise<ExecResult> {
  let exec: Docker.Exec;
  let stream: Duplex;
  try {
    exec = await docker.getContainer(containerRef(handle)).exec({
      Cmd: [...argv],
      AttachStdout: true,
      AttachStderr: true,
    });
    stream = await exec.start({ hijack: true, stdin: false });
  } catch (error) {
    if (isNotFound(error)) throw new InstanceNotFoundError(handle.id, { cause: error });
    throw new DockerApiError(`cannot exec in instance ${handle.id}: ${engineMessage(error)}`, {
      cause: error,
    });
  }
  const output: Buffer[] = [];
  let timedOut = false;
  let timeoutFailure: unknown;
  // Never rejects: a failure to kill is kept and reported once the read has ended.
  const onTimeout = async (): Promise<void> => {
    timedOut = true;
    try {
      await killExecProcesses((await exec.inspect()).Pid);
    } catch (error) {
      // A gone exec (or container) has nothing left to kill.
      if (!isNotFound(error)) timeoutFailure = error;
    } finally {
      stream.destroy();
    }
  };
  const timer = setTimeout(() => void onTimeout(), timeoutMs);
  try {
    for await (const frame of demux(stream)) output.push(frame.payload);
  } catch (error) {
    // Destroying the stream on timeout ends the read with an error; that is expected.
    if (!timedOut) throw error;
  } finally {
    clearTimeout(timer);
  }
  if (timeoutFailure !== undefined) {
    throw new DockerApiError(`cannot end a timed-out exec in instance ${handle.id}`, {
      cause: timeoutFailure,
    });
  }
  const text = Buffer.concat(output).toString('utf8');
  if (timedOut) return { exitCode: null, output: text, timedOut };
  const deadline = Date.now() + EXIT_CODE_WAIT_MS;
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running || Date.now() > deadline) {
      return { exitCode: info.Running ? null : info.ExitCode, output: text, timedOut };
    }
    await sleep(10);
  }
}
