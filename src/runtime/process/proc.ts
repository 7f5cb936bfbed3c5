import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Reading /proc: how the process runtime finds its instances without being
 * their parent (after a restart of Drover), and tells a live instance from a
 * different process that happens to reuse its pid.
 */

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly state: string;
  /** Start time in clock ticks after boot: with the pid, a process's identity. */
  readonly startTime: number;
}

/** /proc/<pid>/stat, or undefined when the process is gone. */
export async function procStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces or ')'.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return {
    pid,
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTime: Number(fields[19]),
  };
}

/** Whether `pid` is still the process that started at `startTime` (and not a zombie). */
export async function isAlive(pid: number, startTime: number): Promise<boolean> {
  const stat = await procStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z';
}

export async function procEnviron(pid: number): Promise<Record<string, string> | undefined> {
  let data: Buffer;
  try {
    data = await readFile(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  const env: Record<string, string> = {};
  for (const item of data.toString('utf8').split('\0')) {
    const eq = item.indexOf('=');
    if (eq > 0) env[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return env;
}

export async function procCmdline(pid: number): Promise<string[] | undefined> {
  try {
    const data = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return data.split('\0').filter((s, i, all) => s !== '' || i < all.length - 1);
  } catch {
    return undefined;
  }
}

export async function procCwd(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

export async function allPids(): Promise<number[]> {
  const names = await readdir('/proc');
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

const SCAN_BATCH = 64;

/**
 * Every live process whose environment carries `MARKER=value`: an instance's
 * processes inherit the marker, so this finds them even when they left the
 * process group.
 */
export async function pidsWithMarker(
  marker: string,
  value?: string,
): Promise<Map<number, Record<string, string>>> {
  const found = new Map<number, Record<string, string>>();
  const pids = await allPids();
  // A bounded number of files open at once: many callers at a time, on a machine with thousands of processes.
  for (let i = 0; i < pids.length; i += SCAN_BATCH) {
    await Promise.all(
      pids.slice(i, i + SCAN_BATCH).map(async (pid) => {
        if (pid === process.pid) return;
        const env = await procEnviron(pid);
        if (env === undefined || env[marker] === undefined) return;
        if (value !== undefined && env[marker] !== value) return;
        const stat = await procStat(pid);
        if (stat === undefined || stat.state === 'Z') return;
        found.set(pid, env);
      }),
    );
  }
  return found;
}

/** Clock ticks per second for /proc start times (USER_HZ; 100 on Linux). */
export const CLOCK_TICKS = 100;
