import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { SqliteStore } from '../../store/index.js';
import { openSqliteStore } from '../../store/index.js';
import type { ArtifactStore, ArtifactStoreOptions } from '../store.js';
import { openArtifactStore } from '../store.js';

import { tempDir } from './tree.js';

export interface TestHome {
  readonly home: string;
  readonly store: SqliteStore;
  readonly artifacts: ArtifactStore;
  close(): Promise<void>;
}

/** A Drover home in a temporary directory with a real SQLite store. */
export function openTestHome(options: Partial<ArtifactStoreOptions> = {}): TestHome {
  const home = tempDir('drover-artifact-home-');
  const store = openSqliteStore({ path: join(home, 'state.db') });
  const artifacts = openArtifactStore({ home, store, killGraceMs: 300, ...options });
  return {
    home,
    store,
    artifacts,
    close: async () => {
      await artifacts.close();
      await store.close();
    },
  };
}

/** Entries of `<home>/artifacts/.tmp`: whatever a build or removal left behind. */
export function leftovers(home: string): string[] {
  try {
    return readdirSync(join(home, 'artifacts', '.tmp'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Processes of a process group that are still alive. Zombies do not count:
 * they have exited and wait only for whoever adopted them to reap them.
 */
export function livingMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after the command (which may hold spaces): state, ppid, pgrp, …
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(name));
  }
  return members;
}
