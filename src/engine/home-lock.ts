import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { EngineError } from './errors.js';

/** Another daemon already runs on this $DROVER_HOME. */
export class HomeInUseError extends EngineError {
  constructor(home: string, pid: number) {
    super(
      'HOME_IN_USE',
      `another Drover daemon (pid ${pid}) is running on ${home}; stop it first, or use another --home`,
    );
  }
}

export interface HomeLock {
  release(): void;
}

/**
 * One daemon per $DROVER_HOME: two would both adopt, heal and deploy the same
 * instances. The lock file holds the owner's pid and start time, so a lock
 * left by a killed daemon (or by a pid since reused) is taken over, which is
 * what a restart after SIGKILL needs.
 */
export function lockHome(home: string): HomeLock {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = join(home, 'daemon.lock');
  const me = `${process.pid} ${startTime(process.pid) ?? ''}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, me);
      } finally {
        closeSync(fd);
      }
      return {
        release: () => {
          // Only our own lock: a takeover after we were presumed dead is not ours to remove.
          if (read(file) === me) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = read(file);
    if (held === undefined) continue; // gone meanwhile: try again
    const [pid, started] = held.trim().split(' ');
    const owner = Number(pid);
    if (Number.isInteger(owner) && owner > 0 && startTime(owner) === started && started !== '')
      throw new HomeInUseError(home, owner);
    rmSync(file, { force: true }); // stale
  }
  throw new EngineError('HOME_IN_USE', `cannot take the daemon lock ${file}: it keeps changing`);
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The process's start time in clock ticks since boot (field 22 of /proc/PID/stat); undefined once gone or a zombie. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}
