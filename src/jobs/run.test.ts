import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { InstanceArtifact, Runtime, RuntimeEvent } from '../runtime/index.js';
import type { TestHome } from '../runtime/testing/process-home.js';
import { testHome } from '../runtime/testing/process-home.js';

import { runJob } from './run.js';
import type { AttemptEvent, JobAttempt, JobSpec, RunJobOptions } from './types.js';

/** The workloads, as node scripts. */
function writeWorkloads(): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-job-workloads-'));
  writeFileSync(join(dir, 'ok.js'), "console.log('done');\n");
  writeFileSync(join(dir, 'fail.js'), 'process.exit(7);\n');
  // Counts its runs in $COUNTER_DIR/count and succeeds on the third.
  writeFileSync(
    join(dir, 'flaky.js'),
    `const fs = require('node:fs');
const file = require('node:path').join(process.env.COUNTER_DIR, 'count');
let n = 0;
try { n = Number(fs.readFileSync(file, 'utf8')); } catch {}
fs.writeFileSync(file, String(n + 1));
process.exit(n + 1 >= 3 ? 0 : 1);
`,
  );
  // Exits 0 when the file mounted at ./secret/token holds $EXPECT.
  writeFileSync(
    join(dir, 'check-file.js'),
    "const got = require('node:fs').readFileSync('secret/token', 'utf8');\nprocess.exit(got === process.env.EXPECT ? 0 : 3);\n",
  );
  writeFileSync(join(dir, 'forever.js'), "console.log('started');\nsetInterval(() => {}, 1000);\n");
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  return dir;
}

let home: TestHome;
let runtime: Runtime;
let artifact: InstanceArtifact;
let workloads: string;
const scratch: string[] = [];

beforeAll(async () => {
  home = await testHome();
  workloads = writeWorkloads();
  runtime = await home.runtime();
  artifact = await runtime.build({
    id: 'job-workloads',
    context: workloads,
    timeoutMs: 10_000,
    who: 'test',
  });
}, 60_000);

afterAll(async () => {
  await runtime.close();
  await home.cleanup();
  rmSync(workloads, { recursive: true, force: true });
});

afterEach(async () => {
  // Whatever happened, a job leaves no instance behind.
  expect(await runtime.list()).toEqual([]);
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function spec(script: string, env: Record<string, string> = {}): JobSpec {
  return {
    labels: { stack: 'test', service: script.replace(/\.js$/, ''), revision: 'r1' },
    artifact,
    command: [process.execPath, script],
    env,
  };
}

function options(script: string, extra: Partial<RunJobOptions> = {}): RunJobOptions {
  return {
    runtime,
    spec: spec(script),
    retries: 0,
    graceMs: 1000,
    backoff: { initialMs: 10, factor: 2, maxMs: 100 },
    ...extra,
  };
}

/** Ended by SIGTERM: as a signal, or as 128+15 when an init runs in front of it (isolation). */
function expectTerminated(attempt: JobAttempt | undefined): void {
  expect([attempt?.signal, attempt?.exitCode]).toSatisfy(
    ([signal, code]: unknown[]) => signal === 'SIGTERM' || code === 143,
  );
}

describe('runJob (process runtime)', () => {
  it('runs a job that succeeds', async () => {
    const events: AttemptEvent[] = [];
    const result = await runJob(options('ok.js', { onAttempt: (e) => events.push(e) }));
    expect(result.status).toBe('succeeded');
    expect(result.attempts).toHaveLength(1);
    const [attempt] = result.attempts;
    expect(attempt).toMatchObject({ number: 1, exitCode: 0, signal: null, timedOut: false });
    expect(attempt?.instance).toMatch(/^ok-[0-9a-f]{8}$/);
    expect(Date.parse(attempt?.finishedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(attempt?.startedAt ?? ''),
    );
    expect(events.map((e) => e.type)).toEqual(['started', 'finished']);
  });

  it('retries a job that fails twice, then succeeds on the third attempt', async () => {
    const counter = mkdtempSync(join(tmpdir(), 'drover-job-counter-'));
    scratch.push(counter);
    const events: AttemptEvent[] = [];
    const result = await runJob({
      ...options('flaky.js', { retries: 3, onAttempt: (e) => events.push(e) }),
      spec: spec('flaky.js', { COUNTER_DIR: counter }),
    });
    expect(result.status).toBe('succeeded');
    expect(result.attempts.map((a) => [a.number, a.exitCode])).toEqual([
      [1, 1],
      [2, 1],
      [3, 0],
    ]);
    expect(readFileSync(join(counter, 'count'), 'utf8')).toBe('3');
    // A fresh instance per attempt.
    expect(new Set(result.attempts.map((a) => a.instance)).size).toBe(3);
    // Exponential backoff between attempts.
    const waits = events.flatMap((e) => (e.type === 'finished' ? [e.retryInMs] : []));
    expect(waits).toEqual([10, 20, undefined]);
  });

  it('gives up after retries + 1 attempts of a job that always fails', async () => {
    const result = await runJob(options('fail.js', { retries: 2 }));
    expect(result.status).toBe('failed');
    expect(result.attempts.map((a) => a.exitCode)).toEqual([7, 7, 7]);
  });

  it('stops a job at its time limit', async () => {
    const result = await runJob(options('forever.js', { timeoutMs: 300 }));
    expect(result.status).toBe('timeout');
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0]?.timedOut).toBe(true);
    expectTerminated(result.attempts[0]);
  });

  it('retries a timed-out attempt, and says timeout when the last one timed out', async () => {
    const result = await runJob(options('forever.js', { timeoutMs: 200, retries: 1 }));
    expect(result.status).toBe('timeout');
    expect(result.attempts.map((a) => a.timedOut)).toEqual([true, true]);
  });

  it('is cancelled through its signal: the running instance is stopped', async () => {
    const controller = new AbortController();
    const result = await runJob(
      options('forever.js', {
        signal: controller.signal,
        retries: 3,
        onAttempt: (e) => {
          if (e.type === 'started') setTimeout(() => controller.abort(), 100);
        },
      }),
    );
    expect(result.status).toBe('cancelled');
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0]).toMatchObject({ cancelled: true, timedOut: false });
    expectTerminated(result.attempts[0]);
  });

  it('is cancelled between attempts: no other starts', async () => {
    const controller = new AbortController();
    const result = await runJob(
      options('fail.js', {
        signal: controller.signal,
        retries: 5,
        backoff: { initialMs: 60_000 },
        onAttempt: (e) => {
          if (e.type === 'finished') controller.abort();
        },
      }),
    );
    expect(result.status).toBe('cancelled');
    expect(result.attempts.map((a) => [a.exitCode, a.cancelled])).toEqual([[7, false]]);
  });

  it('starts nothing when cancelled before it begins', async () => {
    const result = await runJob(options('ok.js', { signal: AbortSignal.abort() }));
    expect(result).toEqual({ status: 'cancelled', attempts: [] });
  });

  it('counts an instance that cannot start as a failed attempt', async () => {
    const image: InstanceArtifact = { kind: 'image', id: 'img', image: 'busybox' };
    const result = await runJob({
      ...options('ok.js', { retries: 1 }),
      spec: { ...spec('ok.js'), artifact: image },
    });
    expect(result.status).toBe('failed');
    expect(result.attempts).toHaveLength(2);
    expect(result.attempts[0]?.error).toMatch(/runs snapshots/);
  });

  it('hears exits through runtime.list() when the event stream says nothing', async () => {
    // The real runtime, with a stream that never yields: as if the exit came before the subscription.
    const deaf: Runtime = Object.create(runtime, {
      events: {
        value: (signal?: AbortSignal): AsyncIterable<RuntimeEvent> => ({
          [Symbol.asyncIterator]: () => ({
            next: () =>
              new Promise<IteratorResult<RuntimeEvent>>((resolve) =>
                signal?.addEventListener('abort', () => resolve({ done: true, value: undefined })),
              ),
          }),
        }),
      },
    }) as Runtime;
    const result = await runJob({
      ...options('fail.js', { retries: 1 }),
      runtime: deaf,
      pollMs: 50,
    });
    expect(result.status).toBe('failed');
    expect(result.attempts.map((a) => a.exitCode)).toEqual([7, 7]);
  });

  it('mounts files made for each attempt, and removes them after', async () => {
    const files = mkdtempSync(join(tmpdir(), 'drover-job-mounts-'));
    scratch.push(files);
    const made: string[] = [];
    const removed: string[] = [];
    const result = await runJob({
      ...options('check-file.js', { retries: 0 }),
      spec: spec('check-file.js', { EXPECT: 'for-this-instance' }),
      mounts: async (instance) => {
        made.push(instance);
        const source = join(files, instance);
        writeFileSync(source, 'for-this-instance', { mode: 0o600 });
        return [{ source, target: 'secret/token', readOnly: true }];
      },
      unmount: async (instance) => {
        removed.push(instance);
        rmSync(join(files, instance));
      },
    });
    expect(result.status).toBe('succeeded');
    expect(made).toEqual([result.attempts[0]?.instance]);
    expect(removed).toEqual(made);
  });

  it('unmounts after an attempt that could not start, too', async () => {
    const removed: string[] = [];
    const result = await runJob({
      ...options('ok.js', { retries: 1 }),
      mounts: async () => {
        throw new Error('cannot write the secret file');
      },
      unmount: async (instance) => {
        removed.push(instance);
      },
    });
    expect(result.status).toBe('failed');
    expect(result.attempts.map((a) => a.error)).toEqual([
      'cannot write the secret file',
      'cannot write the secret file',
    ]);
    expect(removed).toEqual(result.attempts.map((a) => a.instance));
  });

  it('rejects when what was mounted cannot be removed', async () => {
    await expect(
      runJob({
        ...options('ok.js'),
        unmount: async () => {
          throw new Error('disk gone');
        },
      }),
    ).rejects.toMatchObject({ code: 'JOB_CLEANUP', cause: { message: 'disk gone' } });
  });

  it('refuses options it cannot use', async () => {
    await expect(runJob(options('ok.js', { retries: -1 }))).rejects.toMatchObject({
      code: 'JOB_OPTIONS',
    });
    await expect(runJob(options('ok.js', { retries: 1.5 }))).rejects.toMatchObject({
      code: 'JOB_OPTIONS',
    });
    await expect(runJob(options('ok.js', { timeoutMs: Number.NaN }))).rejects.toMatchObject({
      code: 'JOB_OPTIONS',
    });
  });
});
