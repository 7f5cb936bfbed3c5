import { rm } from 'node:fs/promises';

import { runRuntimeContract } from '../contract.case.js';
import { writeNodeWorkloads } from '../testing/node-workloads.js';
import { testHome } from '../testing/process-home.js';

for (const isolation of ['auto', 'off'] as const) {
  runRuntimeContract(
    isolation === 'auto' ? 'process' : 'process (isolation off)',
    async () => {
      const home = await testHome();
      const workloads = writeNodeWorkloads();
      const open = () => home.runtime({ isolation });
      const runtime = await open();
      const artifact = await runtime.build({
        id: 'workloads',
        context: workloads,
        timeoutMs: 10_000,
        who: 'test',
      });
      const node = process.execPath;
      return {
        runtime,
        reopen: open,
        enforcesLimits: runtime.isolation.cgroups !== undefined,
        workloads: {
          server: { artifact, command: [node, 'server.js'] },
          exitThree: { artifact, command: [node, 'exit3.js'] },
          stubborn: { artifact, command: [node, 'stubborn.js'] },
          memoryHog: { artifact, command: [node, 'hog.js'] },
        },
        cleanup: async () => {
          await home.cleanup();
          await rm(workloads, { recursive: true, force: true });
        },
      };
    },
    { basePort: isolation === 'auto' ? 23100 : 23200, limits: isolation === 'auto' },
  );
}
