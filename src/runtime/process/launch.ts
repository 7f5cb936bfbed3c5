import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

import type { Cgroups } from './cgroups.js';
import { detectCgroups } from './cgroups.js';

/** What this machine lets the process runtime do to isolate instances. */
export interface Isolation {
  /** Private PID, mount, UTS and IPC namespaces (root with util-linux unshare). */
  readonly namespaces: boolean;
  /** An init for PID 1 (tini), so signals reach the app and zombies are reaped. */
  readonly init?: string;
  /** Memory and CPU limits (root with cgroups). */
  readonly cgroups?: Cgroups;
  /** Why something is missing, for the warning users see. */
  readonly notes: readonly string[];
}

async function which(
  program: string,
  path = process.env['PATH'] ?? '',
): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, program);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory; keep looking.
    }
  }
  return undefined;
}

export async function detectIsolation(wanted: 'auto' | 'off'): Promise<Isolation> {
  if (wanted === 'off') return { namespaces: false, notes: ['isolation is turned off'] };
  const notes: string[] = [];
  const root = process.getuid?.() === 0;
  if (!root)
    notes.push(
      'not running as root: instances are plain processes and memory/CPU limits are not enforced',
    );
  const unshare = root ? await which('unshare') : undefined;
  if (root && unshare === undefined)
    notes.push('util-linux unshare not found: no private namespaces');
  const init = unshare ? ((await which('tini')) ?? (await which('docker-init'))) : undefined;
  if (unshare && init === undefined) {
    notes.push(
      'tini not found: the command runs as PID 1 of its namespace and must handle SIGTERM itself',
    );
  }
  const cgroups = root ? await detectCgroups() : undefined;
  if (root && cgroups === undefined)
    notes.push('no writable cgroups: memory/CPU limits are not enforced');
  return { namespaces: unshare !== undefined, init, cgroups, notes };
}

/** The argv that runs `command` with the available isolation. Never a shell string. */
export function launchArgv(command: readonly string[], isolation: Isolation): string[] {
  if (!isolation.namespaces) return [...command];
  const init = isolation.init ? [isolation.init, '-g', '--'] : [];
  return [
    'unshare',
    '--pid',
    '--fork',
    '--mount-proc',
    '--mount',
    '--uts',
    '--ipc',
    // If unshare itself is killed, the namespace's init goes with it (and with it, everything inside).
    '--kill-child',
    '--',
    ...init,
    ...command,
  ];
}

/** Environment markers that identify an instance's processes, inherited by all of them. */
export const MARKERS = {
  instance: 'DROVER_INSTANCE',
  stack: 'DROVER_STACK',
  service: 'DROVER_SERVICE',
  revision: 'DROVER_REVISION',
  home: 'DROVER_HOME_ID',
} as const;
