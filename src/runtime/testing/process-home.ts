import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ArtifactStore } from '../../artifact/index.js';
import { openArtifactStore } from '../../artifact/index.js';
import type { Store } from '../../store/index.js';
import { openDefaultStore } from '../../store/index.js';
import type { ProcessRuntimeOptions } from '../process/runtime.js';
import type { ProcessRuntime } from '../process/runtime.js';
import { createProcessRuntime } from '../process/runtime.js';

/** A throwaway $DROVER_HOME with a real state store and artifact store, for tests. */
export interface TestHome {
  readonly home: string;
  readonly store: Store;
  readonly artifacts: ArtifactStore;
  runtime(options?: Partial<ProcessRuntimeOptions>): Promise<ProcessRuntime>;
  cleanup(): Promise<void>;
}

export async function testHome(): Promise<TestHome> {
  const home = await mkdtemp(join(tmpdir(), 'drover-home-'));
  const store = openDefaultStore(home);
  const artifacts = openArtifactStore({ home, store });
  return {
    home,
    store,
    artifacts,
    runtime: (options = {}) =>
      createProcessRuntime({ home, snapshots: artifacts, onWarning: () => undefined, ...options }),
    cleanup: async () => {
      await artifacts.close();
      await store.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
