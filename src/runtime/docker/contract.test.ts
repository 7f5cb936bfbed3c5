import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe } from 'vitest';

import { runRuntimeContract } from '../contract.case.js';
import type { Runtime } from '../runtime.js';
import { busyboxWorkloads, writeBusyboxContext } from '../testing/busybox-image.js';
import { dockerForTests, removeDockerLeftovers } from '../testing/docker.js';

import { createDockerRuntime } from './index.js';

if (await dockerForTests()) {
  const home = await mkdtemp(join(tmpdir(), 'drover-docker-contract-'));
  runRuntimeContract(
    'docker',
    async () => {
      const runtime = await createDockerRuntime({ home });
      const context = await writeBusyboxContext();
      const id = `contract-${randomBytes(6).toString('hex')}`;
      const artifact = await runtime
        .build({
          id,
          context: context.dir,
          dockerfile: context.dockerfile,
          timeoutMs: 60_000,
          who: 'contract.test',
        })
        .catch(async (error: unknown) => {
          // The suite gets no subject to clean up: leave nothing behind here.
          await runtime.close();
          await context.remove();
          await rm(home, { recursive: true, force: true });
          throw error;
        });
      const reopened: Runtime[] = [];
      return {
        runtime,
        workloads: busyboxWorkloads(artifact),
        reopen: async () => {
          const again = await createDockerRuntime({ home });
          reopened.push(again);
          return again;
        },
        enforcesLimits: true,
        cleanup: async () => {
          for (const again of reopened) await again.close();
          await removeDockerLeftovers(home, [`drover-artifact:${id}`]);
          await context.remove();
          await rm(home, { recursive: true, force: true });
        },
      };
    },
    // Below testing/docker.ts's freePort() range, which docker.test.ts uses at the same
    // time, and below the ephemeral range, where a parallel test's outgoing connection
    // could hold the port when busybox binds it.
    { basePort: 30600 },
  );
} else {
  describe.skip('Runtime contract: docker (no Docker engine)', () => undefined);
}
