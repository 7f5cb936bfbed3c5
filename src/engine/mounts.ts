import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Mount } from '../runtime/index.js';

import type { ServiceTarget } from './deploy/types.js';

/** Where a stack's volumes live: outside every instance, kept across replacements. */
export function volumeDir(home: string, stack: string, volume: string): string {
  return join(home, 'volumes', stack, volume);
}

/** Per-instance files Drover makes for it (config and secret contents), removed with the instance. */
function runDir(home: string, instance: string): string {
  return join(home, 'run', instance);
}

/**
 * The mounts of a service instance: volumes as their directories, configs
 * and secrets as files written for this instance only (secrets 0600), which
 * the runtime puts read-only at their paths.
 */
export async function materializeMounts(
  home: string,
  target: ServiceTarget,
  instance: string,
  content: (resource: string) => Promise<string>,
): Promise<Mount[]> {
  const mounts: Mount[] = [];
  for (const v of target.props.volumes) {
    const source = volumeDir(home, target.stack, v.volume);
    await mkdir(source, { recursive: true, mode: 0o755 });
    mounts.push({ source, target: v.path, readOnly: v.read_only });
  }
  const files = [
    ...target.props.configs.map((c) => ({ resource: c.config, path: c.path, mode: 0o644 })),
    ...target.props.secrets.map((s) => ({ resource: s.secret, path: s.path, mode: 0o600 })),
  ];
  if (files.length > 0) await mkdir(runDir(home, instance), { recursive: true, mode: 0o700 });
  for (const [i, file] of files.entries()) {
    const source = join(
      runDir(home, instance),
      `${i}-${file.resource.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
    );
    await writeFile(source, await content(file.resource), { mode: file.mode });
    mounts.push({ source, target: file.path, readOnly: true });
  }
  return mounts;
}

export async function removeMounts(home: string, instance: string): Promise<void> {
  await rm(runDir(home, instance), { recursive: true, force: true });
}
