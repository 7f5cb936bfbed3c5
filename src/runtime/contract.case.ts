import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ContractSubject } from './contract-types.js';
import type { InstanceHandle, InstanceSpec, Runtime, RuntimeEvent } from './runtime.js';

export type { ContractSubject, ContractWorkloads } from './contract-types.js';

let nextPort = 0;
let serial = 0;

/** Polls until `check` holds (bounded); timing is never asserted, only eventual truth. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function httpGet(
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

/** Collects events from a runtime into an array until stopped. */
function record(runtime: Runtime): { events: RuntimeEvent[]; stop: () => void } {
  const events: RuntimeEvent[] = [];
  const controller = new AbortController();
  void (async () => {
    for await (const event of runtime.events(controller.signal)) events.push(event);
  })();
  return { events, stop: () => controller.abort() };
}

/**
 * The contract every runtime driver passes, with real workloads: the process
 * driver runs it with Node.js scripts, the Docker driver with a busybox image.
 */
export function runRuntimeContract(
  name: string,
  open: () => Promise<ContractSubject>,
  options: { basePort: number; limits?: boolean } = { basePort: 23000 },
): void {
  describe(`Runtime contract: ${name}`, () => {
    let subject: ContractSubject;
    let runtime: Runtime;
    const started: InstanceHandle[] = [];

    beforeAll(async () => {
      subject = await open();
      runtime = subject.runtime;
      nextPort = options.basePort;
    }, 120_000);

    afterAll(async () => {
      for (const handle of started)
        await runtime.stop(handle, { graceMs: 100 }).catch(() => undefined);
      await runtime.close();
      await subject.cleanup();
    }, 60_000);

    const spec = (
      workload: keyof ContractSubject['workloads'],
      extra: Partial<InstanceSpec> = {},
    ): InstanceSpec => {
      const id = `t${process.pid}-${++serial}-${workload.toLowerCase()}`;
      const w = subject.workloads[workload];
      return {
        id,
        labels: { stack: 'contract', service: `svc-${workload}`, revision: 'rev1', instance: id },
        artifact: w.artifact,
        command: w.command,
        env: { GREETING: 'hello contract' },
        port: nextPort++,
        ...extra,
      };
    };

    const startTracked = async (s: InstanceSpec): Promise<InstanceHandle> => {
      const handle = await runtime.start(s);
      started.push(handle);
      return handle;
    };

    it('starts an instance that listens on PORT and sees its environment', async () => {
      const s = spec('server');
      const handle = await startTracked(s);
      expect(handle).toMatchObject({ id: s.id, port: s.port, runtime: runtime.kind });
      const health = await eventually(
        async () => (await httpGet(s.port, '/healthz')).status === 200 || undefined,
        'healthz',
      );
      expect(health).toBe(true);
      expect(await httpGet(s.port, '/env/GREETING')).toEqual({
        status: 200,
        body: 'hello contract',
      });
      expect((await httpGet(s.port, '/env/PORT')).body.trim()).toBe(String(s.port));
    });

    it('lists its instances with their ownership labels', async () => {
      const s = spec('server');
      const handle = await startTracked(s);
      const found = await eventually(
        async () => (await runtime.list()).find((o) => o.handle.id === handle.id),
        'listed',
      );
      expect(found.labels).toEqual(s.labels);
      expect(found.state).toBe('running');
    });

    it('keeps stdout and stderr in its logs', async () => {
      const s = spec('server');
      const handle = await startTracked(s);
      await eventually(
        async () => (await httpGet(s.port, '/healthz')).status === 200 || undefined,
        'healthz',
      );
      const lines = await eventually(async () => {
        const got: string[] = [];
        for await (const l of runtime.logs(handle)) got.push(`${l.stream}:${l.line.trim()}`);
        return got.includes('stdout:started') && got.includes('stderr:ready') ? got : undefined;
      }, 'log lines');
      expect(lines).toEqual(expect.arrayContaining(['stdout:started', 'stderr:ready']));
    });

    it('runs commands in the instance and limits their time', async () => {
      const s = spec('server');
      const handle = await startTracked(s);
      await eventually(
        async () => (await httpGet(s.port, '/healthz')).status === 200 || undefined,
        'healthz',
      );
      const ok = await runtime.exec(handle, ['sh', '-c', 'echo "$GREETING"; exit 4'], {
        timeoutMs: 5000,
      });
      expect(ok).toMatchObject({ exitCode: 4, timedOut: false });
      expect(ok.output).toContain('hello contract');
      const slow = await runtime.exec(handle, ['sleep', '5'], { timeoutMs: 300 });
      expect(slow.timedOut).toBe(true);
    });

    it('inspects what an instance runs', async () => {
      const s = spec('server');
      const handle = await startTracked(s);
      await eventually(
        async () => (await httpGet(s.port, '/healthz')).status === 200 || undefined,
        'healthz',
      );
      const fingerprint = await runtime.inspect(handle);
      expect(fingerprint.runtime).toBe(runtime.kind);
      expect(fingerprint.env['GREETING']).toBe('hello contract');
    });

    it('reports starts and exits with their code', async () => {
      const watch = record(runtime);
      try {
        const s = spec('exitThree');
        await startTracked(s);
        const exit = await eventually(
          async () => watch.events.find((e) => e.type === 'exit' && e.id === s.id),
          'exit event',
        );
        expect(exit).toMatchObject({ type: 'exit', exitCode: 3, labels: s.labels });
        expect(watch.events.some((e) => e.type === 'start' && e.id === s.id)).toBe(true);
        const listed = await eventually(
          async () =>
            (await runtime.list()).find((o) => o.handle.id === s.id && o.state === 'exited'),
          'exited in list',
        );
        expect(listed.exit?.exitCode).toBe(3);
      } finally {
        watch.stop();
      }
    });

    it('stops gracefully: SIGTERM, the instance exits, nothing is left', async () => {
      const s = spec('server');
      const handle = await startTracked(s);
      await eventually(
        async () => (await httpGet(s.port, '/healthz')).status === 200 || undefined,
        'healthz',
      );
      const status = await runtime.stop(handle, { graceMs: 5000 });
      expect(status.exitCode === 0 || status.signal === 'SIGTERM').toBe(true);
      expect((await runtime.list()).some((o) => o.handle.id === handle.id)).toBe(false);
      await expect(httpGet(s.port, '/healthz')).rejects.toThrow();
    });

    it('kills an instance that ignores SIGTERM once the grace period is over', async () => {
      const s = spec('stubborn');
      const handle = await startTracked(s);
      await eventually(async () => {
        for await (const l of runtime.logs(handle)) if (l.line.includes('started')) return true;
        return undefined;
      }, 'stubborn started');
      const t0 = Date.now();
      const status = await runtime.stop(handle, { graceMs: 1000 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      expect(status.signal === 'SIGKILL' || status.exitCode === 137).toBe(true);
      expect((await runtime.list()).some((o) => o.handle.id === handle.id)).toBe(false);
    });

    it('stopping an instance that is already gone succeeds', async () => {
      const s = spec('exitThree');
      const handle = await startTracked(s);
      await eventually(
        async () =>
          (await runtime.list()).find((o) => o.handle.id === s.id && o.state === 'exited'),
        'exited',
      );
      await expect(runtime.stop(handle, { graceMs: 100 })).resolves.toBeDefined();
      await expect(runtime.stop(handle, { graceMs: 100 })).resolves.toBeDefined();
    });

    it('a new runtime on the same home re-adopts running instances, once each', async () => {
      const s = spec('server');
      const handle = await startTracked(s);
      await eventually(
        async () => (await httpGet(s.port, '/healthz')).status === 200 || undefined,
        'healthz',
      );
      const again = await subject.reopen();
      try {
        const listed = (await again.list()).filter((o) => o.handle.id === handle.id);
        expect(listed).toHaveLength(1);
        expect(listed[0]).toMatchObject({ state: 'running', labels: s.labels });
        const watch = record(again);
        try {
          const status = await again.stop(listed[0]?.handle ?? handle, { graceMs: 5000 });
          expect(status).toBeDefined();
          await eventually(
            async () => watch.events.some((e) => e.type === 'exit' && e.id === s.id) || undefined,
            'exit seen by the new runtime',
          );
        } finally {
          watch.stop();
        }
        expect((await again.list()).some((o) => o.handle.id === handle.id)).toBe(false);
        await expect(httpGet(s.port, '/healthz')).rejects.toThrow();
      } finally {
        await again.close();
      }
    });

    // A driver variant that never enforces limits (isolation off) does not declare this test at all.
    if (options.limits === false) return;
    it('enforces memory limits: an instance over its limit is killed and the exit reported', async (ctx) => {
      if (!subject.enforcesLimits) {
        if (process.env['CI'] === 'true')
          throw new Error(`${name}: memory limits are not enforced on this CI machine`);
        ctx.skip();
      }
      const watch = record(runtime);
      try {
        const s = spec('memoryHog', { limits: { memoryBytes: 64 * 2 ** 20 } });
        await startTracked(s);
        const exit = await eventually(
          async () => watch.events.find((e) => e.type === 'exit' && e.id === s.id),
          'OOM exit',
          30_000,
        );
        expect(
          exit.type === 'exit' &&
            (exit.oomKilled === true || exit.signal === 'SIGKILL' || exit.exitCode === 137),
        ).toBe(true);
        expect(exit.type === 'exit' && exit.oomKilled).toBe(true);
      } finally {
        watch.stop();
      }
    });
  });
}
