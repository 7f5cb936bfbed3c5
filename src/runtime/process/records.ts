import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { ExitStatus, InstanceHandle, OwnerLabels } from '../runtime.js';

/**
 * What the runtime remembers of an instance on disk, next to its copy of the
 * artifact, so that a restarted Drover can re-adopt it. Never environment
 * values: they may hold secrets, and the live process has them anyway.
 */
export interface InstanceRecord {
  readonly handle: InstanceHandle;
  readonly labels: OwnerLabels;
  readonly command: readonly string[];
  readonly namespaced: boolean;
  readonly cgroup: boolean;
  readonly exit?: ExitStatus;
}

export class InstanceRecords {
  constructor(private readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  rootDir(id: string): string {
    return join(this.root, id, 'root');
  }

  async write(record: InstanceRecord): Promise<void> {
    await mkdir(this.dir(record.handle.id), { recursive: true, mode: 0o700 });
    await writeFile(
      join(this.dir(record.handle.id), 'instance.json'),
      JSON.stringify(record, null, 2),
      { mode: 0o600 },
    );
  }

  async read(id: string): Promise<InstanceRecord | undefined> {
    try {
      return JSON.parse(
        await readFile(join(this.dir(id), 'instance.json'), 'utf8'),
      ) as InstanceRecord;
    } catch {
      return undefined;
    }
  }

  async all(): Promise<InstanceRecord[]> {
    let ids: string[];
    try {
      ids = await readdir(this.root);
    } catch {
      return [];
    }
    const records = await Promise.all(ids.map((id) => this.read(id)));
    return records.filter((r): r is InstanceRecord => r !== undefined);
  }

  async remove(id: string): Promise<void> {
    // The copy is read-only by design; chmod is not needed to remove files as their owner.
    await rm(this.dir(id), { recursive: true, force: true });
  }
}
