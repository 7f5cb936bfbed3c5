import { createHash } from 'node:crypto';
import { mkdir, realpath } from 'node:fs/promises';
import { constants } from 'node:os';

import type { ExitStatus, OwnerLabels } from '../runtime.js';

/** Container labels Drover puts on every instance; `drover.instance` marks ownership. */
export const LABELS = {
  instance: 'drover.instance',
  stack: 'drover.stack',
  service: 'drover.service',
  revision: 'drover.revision',
  port: 'drover.port',
  home: 'drover.home',
} as const;

/** The same markers in the environment, as the process runtime sets them. */
export const ENV_MARKERS = {
  instance: 'DROVER_INSTANCE',
  stack: 'DROVER_STACK',
  service: 'DROVER_SERVICE',
  revision: 'DROVER_REVISION',
} as const;

/** The image label naming the artifact an image was built for. */
export const ARTIFACT_LABEL = 'drover.artifact';

/**
 * A short, stable id of a Drover home: two homes sharing one engine must
 * never adopt (or remove) each other's containers. The real path, so that
 * `~/x` and a symlink to it are one home.
 */
export async function homeId(home: string): Promise<string> {
  await mkdir(home, { recursive: true });
  const real = await realpath(home);
  return createHash('sha256').update(real).digest('hex').slice(0, 16);
}

export function containerLabels(
  owner: OwnerLabels,
  port: number,
  home: string,
): Record<string, string> {
  return {
    [LABELS.instance]: owner.instance,
    [LABELS.stack]: owner.stack,
    [LABELS.service]: owner.service,
    [LABELS.revision]: owner.revision,
    [LABELS.port]: String(port),
    [LABELS.home]: home,
  };
}

/** The owner labels a container carries, or undefined when one is missing (not Drover's). */
export function ownerOf(
  labels: Readonly<Record<string, string>> | undefined,
): OwnerLabels | undefined {
  if (labels === undefined) return undefined;
  const instance = labels[LABELS.instance];
  const stack = labels[LABELS.stack];
  const service = labels[LABELS.service];
  const revision = labels[LABELS.revision];
  if (instance === undefined || stack === undefined || service === undefined) return undefined;
  if (revision === undefined) return undefined;
  return { instance, stack, service, revision };
}

export function portOf(labels: Readonly<Record<string, string>> | undefined): number {
  const port = Number(labels?.[LABELS.port]);
  return Number.isInteger(port) ? port : 0;
}

// The first name of each number wins: SIGABRT, not its alias SIGIOT.
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, number] of Object.entries(constants.signals)) {
  if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name);
}

/**
 * Docker reports a container killed by signal N as exit code 128+N (and so
 * does its init for a child killed by a signal); turn that back into a
 * signal name so that both runtimes report a SIGKILL the same way. A program
 * that really exits with 137 is reported as killed: shells make the same guess.
 */
export function exitStatus(code: number | null, oomKilled: boolean): ExitStatus {
  const oom = oomKilled ? { oomKilled: true } : {};
  if (code === null) return { exitCode: null, signal: null, ...oom };
  const signal = code > 128 ? SIGNAL_NAMES.get(code - 128) : undefined;
  if (signal !== undefined) return { exitCode: null, signal, ...oom };
  return { exitCode: code, signal: null, ...oom };
}
