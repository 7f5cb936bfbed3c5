import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import { pidsWithMarker } from '../src/runtime/process/proc.js';

import type { TestPlane } from './support/engine.js';
import { get, startPlane } from './support/engine.js';

/** Runs the crashing daemon; resolves with how it ended. */
function crashAt(
  plane: TestPlane,
  params: Record<string, string>,
  failpoint: string,
): Promise<{ signal: string | null; out: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/fixtures/daemon-child.ts',
      plane.home,
      join(plane.dir, 'stack.yaml'),
      JSON.stringify(params),
      failpoint,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve({ signal, out })));
}

async function converged(plane: TestPlane, version: string, replicas: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const instances = await plane.daemon.engine.instances({ stack: 'web' });
    const reply = await get(plane.proxyPort).catch(() => undefined);
    const revisions = new Set(instances.map((i) => i.revision));
    if (
      instances.length === replicas &&
      revisions.size === 1 &&
      instances.every((i) => i.serving) &&
      reply?.body === `version ${version}\n`
    )
      return;
    if (Date.now() > deadline)
      throw new Error(
        `not converged: ${JSON.stringify(instances.map((i) => [i.id, i.revision.slice(0, 8), i.state, i.serving]))} ${reply?.body}`,
      );
    await sleep(100);
  }
}

const cases = [
  { failpoint: 'after-start', deploy: { strategy: 'rolling', max_surge: 1, max_unavailable: 0 } },
  { failpoint: 'after-switch', deploy: { strategy: 'blue-green', keep_previous: '0s' } },
  { failpoint: 'during-drain', deploy: { strategy: 'blue-green', keep_previous: '0s' } },
  { failpoint: 'during-drain', deploy: { strategy: 'rolling', max_surge: 1, max_unavailable: 0 } },
];

describe('SIGKILL of the daemon in the middle of a deployment', () => {
  it.each(cases)(
    'at $failpoint of a $deploy.strategy deployment: the next start converges, nothing orphaned or doubled',
    async ({ failpoint, deploy }) => {
      const plane = await startPlane();
      try {
        expect((await plane.apply({ version: '1', deploy: JSON.stringify(deploy) })).status).toBe(
          'converged',
        );
        await plane.daemon.close();
        const crash = await crashAt(
          plane,
          { version: '2', deploy: JSON.stringify(deploy) },
          failpoint,
        );
        expect(crash).toMatchObject({ signal: 'SIGKILL', out: '' });

        await plane.restart();
        await converged(plane, '2', 2);
        // No record of anything in flight, and every instance process belongs to a record.
        const records = await plane.daemon.engine.instances();
        const runtime = await plane.daemon.runtime('process');
        const observed = (await runtime.list()).filter((o) => o.state === 'running');
        expect(observed.map((o) => o.handle.id).sort()).toEqual(records.map((r) => r.id).sort());
        // Processes of this home only: other tests may run instances of a stack named web too.
        const marked = new Set(
          [...(await pidsWithMarker('DROVER_STACK', 'web')).values()]
            .filter((env) => env['HOME']?.startsWith(`${plane.home}/`))
            .map((env) => env['DROVER_INSTANCE']),
        );
        expect([...marked].sort()).toEqual(records.map((r) => r.id).sort());
        expect(records.every((r) => r.state === 'running')).toBe(true);
        // The record of the apply itself is there: the stack revision of version 2.
        const history = await plane.daemon.engine.history('web', 'web');
        expect(history.find((h) => h.current)?.parameters['version']).toBe('2');
      } finally {
        await plane.close();
      }
    },
    120_000,
  );
});
