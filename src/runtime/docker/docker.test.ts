import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, httpGet } from '../contract.case.js';
import type {
  InstanceArtifact,
  InstanceHandle,
  InstanceSpec,
  LogLine,
  Runtime,
  RuntimeEvent,
  RuntimeFactory,
} from '../runtime.js';
import type { BusyboxContext } from '../testing/busybox-image.js';
import { busyboxWorkloads, writeBusyboxContext } from '../testing/busybox-image.js';
import { dockerForTests, freePort, removeDockerLeftovers } from '../testing/docker.js';

import { resolveSocket } from './client.js';
import { BuildFailedError, createDockerRuntime, RuntimeUnavailableError } from './index.js';
import { homeId, LABELS } from './labels.js';
import { filterChanges } from './observe.js';

const available = await dockerForTests();
const home = await mkdtemp(join(tmpdir(), 'drover-docker-home-'));
afterAll(() => rm(home, { recursive: true, force: true }));

describe('Docker runtime without an engine', () => {
  it('is a RuntimeFactory', () => {
    const factory: RuntimeFactory = createDockerRuntime;
    expect(factory).toBe(createDockerRuntime);
  });

  it('names the socket it tried and how to start the engine', async () => {
    const socketPath = join(home, 'no-such-docker.sock');
    const failure = createDockerRuntime({ home, socketPath });
    await expect(failure).rejects.toBeInstanceOf(RuntimeUnavailableError);
    await expect(failure).rejects.toMatchObject({ code: 'RUNTIME_UNAVAILABLE' });
    await expect(failure).rejects.toThrow(socketPath);
    await expect(failure).rejects.toThrow(/dockerd/);
  });

  it("leaves the engine's own mount points and init out of a container's changes", () => {
    const diff = [
      { Path: '/sbin', Kind: 1 },
      { Path: '/sbin/docker-init', Kind: 1 },
      { Path: '/srv', Kind: 1 },
      { Path: '/srv/data', Kind: 1 },
      { Path: '/srv/data/file', Kind: 1 },
      { Path: '/srv/other', Kind: 1 },
      { Path: '/etc', Kind: 0 },
      { Path: '/etc/passwd', Kind: 2 },
    ];
    expect(filterChanges(diff, ['/srv/data'])).toEqual([
      { path: '/etc', kind: 'changed' },
      { path: '/etc/passwd', kind: 'deleted' },
      { path: '/srv/other', kind: 'added' },
    ]);
    expect(filterChanges(null, [])).toEqual([]);
  });

  it('takes unix sockets only from DOCKER_HOST', () => {
    expect(resolveSocket(undefined, { DOCKER_HOST: 'unix:///run/x.sock' })).toBe('/run/x.sock');
    expect(resolveSocket(undefined, {})).toBe('/var/run/docker.sock');
    expect(resolveSocket('/a.sock', { DOCKER_HOST: 'unix:///b.sock' })).toBe('/a.sock');
    expect(() => resolveSocket(undefined, { DOCKER_HOST: 'tcp://10.0.0.1:2375' })).toThrow(
      RuntimeUnavailableError,
    );
  });
});

/** Collects a runtime's events until stopped. */
function record(runtime: Runtime): {
  events: RuntimeEvent[];
  stop: () => void;
  ended: Promise<void>;
} {
  const events: RuntimeEvent[] = [];
  const controller = new AbortController();
  const ended = (async () => {
    for await (const event of runtime.events(controller.signal)) events.push(event);
  })();
  return { events, stop: () => controller.abort(), ended };
}

describe.skipIf(!available)('Docker runtime', () => {
  const docker = new Docker({ socketPath: resolveSocket(undefined) });
  const artifactId = `test-${randomBytes(6).toString('hex')}`;
  let runtime: Runtime;
  let context: BusyboxContext;
  let artifact: InstanceArtifact;
  let workloads: ReturnType<typeof busyboxWorkloads>;
  let serial = 0;

  const spec = async (
    workload: keyof ReturnType<typeof busyboxWorkloads>,
    extra: Partial<InstanceSpec> = {},
  ): Promise<InstanceSpec> => {
    const id = `dt${process.pid}-${++serial}`;
    return {
      id,
      labels: { stack: 'docker-test', service: workload, revision: 'r1', instance: id },
      artifact: workloads[workload].artifact,
      command: workloads[workload].command,
      env: { GREETING: 'hello docker' },
      port: await freePort(),
      ...extra,
    };
  };

  const healthy = (port: number): Promise<true> =>
    eventually(
      async () => (await httpGet(port, '/healthz')).status === 200 || undefined,
      'healthz',
    );

  const printed = (handle: InstanceHandle, text: string): Promise<true> =>
    eventually(async () => {
      for await (const line of runtime.logs(handle)) if (line.line === text) return true;
      return undefined;
    }, `"${text}" in the logs`);

  beforeAll(async () => {
    runtime = await createDockerRuntime({ home });
    context = await writeBusyboxContext();
    artifact = await runtime.build({
      id: artifactId,
      context: context.dir,
      dockerfile: context.dockerfile,
      timeoutMs: 60_000,
      who: 'docker.test',
    });
    workloads = busyboxWorkloads(artifact);
  }, 60_000);

  afterAll(async () => {
    await runtime?.close();
    await removeDockerLeftovers(home, [`drover-artifact:${artifactId}`]);
    await context?.remove();
  }, 30_000);

  it('builds an artifact once and pins it by image id', async () => {
    expect(artifact).toEqual({
      kind: 'image',
      id: artifactId,
      image: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    const logs = join(home, 'artifacts', 'logs');
    const before = await readdir(logs);
    expect(before).toHaveLength(1);
    expect(await readFile(join(logs, before[0] ?? ''), 'utf8')).toMatch(/Successfully built/);
    const again = await runtime.build({
      id: artifactId,
      context: context.dir,
      dockerfile: context.dockerfile,
      timeoutMs: 60_000,
      who: 'docker.test',
    });
    expect(again).toEqual(artifact);
    expect(await readdir(logs)).toEqual(before);
  });

  it('builds with the named Dockerfile, honours .dockerignore, and a command replaces the entrypoint', async () => {
    await writeFile(join(context.dir, '.dockerignore'), 'www\n');
    await writeFile(
      join(context.dir, 'Dockerfile.entry'),
      'FROM scratch\nCOPY bin/ /bin/\nCOPY . /ctx/\nENTRYPOINT ["ls", "/ctx"]\n',
    );
    const id = `test-entry-${randomBytes(6).toString('hex')}`;
    try {
      const entry = await runtime.build({
        id,
        context: context.dir,
        dockerfile: 'Dockerfile.entry',
        timeoutMs: 30_000,
        who: 'docker.test',
      });
      const output = async (command?: readonly string[]): Promise<string[]> => {
        const s = await spec('server', { artifact: entry, command });
        const handle = await runtime.start(s);
        await eventually(
          async () =>
            (await runtime.list()).find((o) => o.handle.id === s.id && o.state === 'exited'),
          'exited',
        );
        const lines: string[] = [];
        for await (const line of runtime.logs(handle)) lines.push(line.line);
        await runtime.stop(handle, { graceMs: 0 });
        return lines;
      };
      const listing = await output(undefined);
      expect(listing).toEqual(expect.arrayContaining(['Dockerfile.entry', 'bin', 'serve.sh']));
      expect(listing).not.toContain('www');
      expect(await output(['echo', 'from the command'])).toEqual(['from the command']);
    } finally {
      await docker.getImage(`drover-artifact:${id}`).remove({ force: true });
    }
  });

  it('cancels a build that runs over its time', async () => {
    await writeFile(
      join(context.dir, 'Dockerfile.slow'),
      'FROM scratch\nCOPY bin/ /bin/\nRUN ["sleep", "20"]\n',
    );
    const failure = runtime.build({
      id: `test-slow-${randomBytes(6).toString('hex')}`,
      context: context.dir,
      dockerfile: 'Dockerfile.slow',
      timeoutMs: 1500,
      who: 'docker.test',
    });
    await expect(failure).rejects.toMatchObject({ code: 'RUNTIME_BUILD_FAILED' });
    await expect(failure).rejects.toThrow(/timed out after 1500 ms/);
  });

  it('reports a failed build with the end of its log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'drover-bad-context-'));
    try {
      await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY missing-file /x\n');
      const failure = runtime.build({
        id: `test-bad-${randomBytes(6).toString('hex')}`,
        context: dir,
        timeoutMs: 30_000,
        who: 'docker.test',
      });
      await expect(failure).rejects.toBeInstanceOf(BuildFailedError);
      await expect(failure).rejects.toMatchObject({ code: 'RUNTIME_BUILD_FAILED' });
      await expect(failure).rejects.toThrow(/missing-file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs a server on the host network, labelled, limited, with its environment', async () => {
    const s = await spec('server', { limits: { memoryBytes: 64 * 2 ** 20, cpus: 0.5 } });
    const handle = await runtime.start(s);
    expect(handle).toMatchObject({ runtime: 'docker', id: s.id, port: s.port });
    await healthy(s.port);
    expect(await httpGet(s.port, '/env/GREETING')).toEqual({ status: 200, body: 'hello docker' });
    expect((await httpGet(s.port, '/env/NOT_SET')).status).toBe(404);
    // busybox httpd's CGI sees the container's environment.
    const cgi = await httpGet(s.port, '/cgi-bin/env');
    expect(cgi.status).toBe(200);
    expect(cgi.body.split('\n')).toEqual(
      expect.arrayContaining(['GREETING=hello docker', `PORT=${s.port}`]),
    );

    const info = await docker.getContainer(handle.container ?? '').inspect();
    expect(info.Name).toBe(`/drover-${s.id}`);
    expect(info.Image).toBe(artifact.kind === 'image' ? artifact.image : '');
    expect(info.Config.Labels).toMatchObject({
      [LABELS.instance]: s.id,
      [LABELS.stack]: 'docker-test',
      [LABELS.service]: 'server',
      [LABELS.revision]: 'r1',
      [LABELS.port]: String(s.port),
      [LABELS.home]: await homeId(home),
    });
    expect(info.Config.Env).toEqual(
      expect.arrayContaining([
        `PORT=${s.port}`,
        `DROVER_INSTANCE=${s.id}`,
        'DROVER_STACK=docker-test',
      ]),
    );
    expect(info.HostConfig).toMatchObject({
      NetworkMode: 'host',
      Init: true,
      Memory: 64 * 2 ** 20,
      MemorySwap: 64 * 2 ** 20,
      NanoCpus: 500_000_000,
      RestartPolicy: { Name: 'no' },
    });

    // Answering comes first; "started" and "ready" follow once the server saw it answer.
    await printed(handle, 'ready');
    const status = await runtime.stop(handle, { graceMs: 5000 });
    expect(status).toEqual({ exitCode: 0, signal: null });
    await expect(httpGet(s.port, '/healthz')).rejects.toThrow();
    const saved = await readFile(join(home, 'logs', `${s.id}.log`), 'utf8');
    expect(saved).toContain('started\n');
    expect(saved).toContain('ready\n');
  });

  it('lists instances by label, and a new runtime on the same home adopts them', async () => {
    const s = await spec('server');
    const handle = await runtime.start(s);
    const listed = (await runtime.list()).find((o) => o.handle.id === s.id);
    expect(listed).toEqual({ handle, labels: s.labels, state: 'running' });

    const restarted = await createDockerRuntime({ home });
    const elsewhere = await mkdtemp(join(tmpdir(), 'drover-other-home-'));
    const other = await createDockerRuntime({ home: elsewhere });
    try {
      expect((await restarted.list()).filter((o) => o.handle.id === s.id)).toEqual([listed]);
      expect((await other.list()).some((o) => o.handle.id === s.id)).toBe(false);
      expect(await restarted.stop(handle, { graceMs: 5000 })).toMatchObject({ exitCode: 0 });
      expect((await runtime.list()).some((o) => o.handle.id === s.id)).toBe(false);
    } finally {
      await restarted.close();
      await other.close();
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('inspects image, command, env and files changed inside the container', async () => {
    const data = await mkdtemp(join(tmpdir(), 'drover-mount-'));
    const s = await spec('server', {
      mounts: [
        { source: data, target: 'data', readOnly: false },
        { source: data, target: '/srv/ro', readOnly: true },
      ],
    });
    const handle = await runtime.start(s);
    try {
      await healthy(s.port);
      const first = await runtime.inspect(handle);
      expect(first).toMatchObject({
        runtime: 'docker',
        image: artifact.kind === 'image' ? artifact.image : '',
        command: ['/bin/sh', '/serve.sh'],
        cwd: '/',
        mounts: expect.arrayContaining([
          { source: data, target: '/data', readOnly: false },
          { source: data, target: '/srv/ro', readOnly: true },
        ]),
      });
      expect(first.env).toMatchObject({ GREETING: 'hello docker', PORT: String(s.port) });
      expect(first.labels?.[LABELS.instance]).toBe(s.id);
      expect(first.changes).toEqual([]);

      expect(
        await runtime.exec(handle, ['touch', '/www/x', '/data/y'], { timeoutMs: 5000 }),
      ).toMatchObject({
        exitCode: 0,
      });
      expect(await readFile(join(data, 'y'), 'utf8')).toBe('');
      const readOnly = await runtime.exec(handle, ['touch', '/srv/ro/z'], { timeoutMs: 5000 });
      expect(readOnly.exitCode).not.toBe(0);
      const second = await runtime.inspect(handle);
      expect(second.changes).toEqual([
        { path: '/www', kind: 'changed' },
        { path: '/www/x', kind: 'added' },
      ]);
    } finally {
      await runtime.stop(handle, { graceMs: 1000 });
      await rm(data, { recursive: true, force: true });
    }
  });

  it('keeps stdout and stderr, follows until aborted, and keeps them after stop', async () => {
    const s = await spec('server');
    const handle = await runtime.start(s);
    await healthy(s.port);
    const lines = await eventually(async () => {
      const got: LogLine[] = [];
      for await (const line of runtime.logs(handle)) got.push(line);
      const has = (stream: string, text: string): boolean =>
        got.some((l) => l.stream === stream && l.line === text);
      return has('stdout', 'started') && has('stderr', 'ready') ? got : undefined;
    }, 'log lines');
    expect(lines.every((l) => typeof l.at === 'string')).toBe(true);
    const tail: LogLine[] = [];
    for await (const line of runtime.logs(handle, { tail: 1 })) tail.push(line);
    expect(tail).toHaveLength(1);

    const controller = new AbortController();
    const followed: string[] = [];
    const following = (async () => {
      for await (const line of runtime.logs(handle, { follow: true, signal: controller.signal })) {
        followed.push(line.line);
      }
    })();
    await eventually(async () => followed.includes('ready') || undefined, 'followed lines');
    controller.abort();
    await following;

    await runtime.stop(handle, { graceMs: 5000 });
    const kept: string[] = [];
    for await (const line of runtime.logs(handle)) kept.push(line.line);
    expect(kept).toEqual(expect.arrayContaining(['started', 'ready']));
  });

  it('runs commands inside, with their exit code, and cuts them off at the timeout', async () => {
    const s = await spec('server');
    const handle = await runtime.start(s);
    try {
      const ok = await runtime.exec(
        handle,
        ['sh', '-c', 'echo "$GREETING"; echo oops >&2; exit 4'],
        {
          timeoutMs: 5000,
        },
      );
      expect(ok).toMatchObject({ exitCode: 4, timedOut: false });
      // Two pipes: the engine keeps no order between stdout and stderr.
      expect(ok.output.split('\n').sort()).toEqual(['', 'hello docker', 'oops']);
      const slow = await runtime.exec(handle, ['sh', '-c', 'sleep 31 & sleep 32'], {
        timeoutMs: 300,
      });
      expect(slow).toEqual({ exitCode: null, output: '', timedOut: true });
      // The timed-out processes were killed, background ones too, not left behind.
      const ps = await runtime.exec(handle, ['ps', '-o', 'args'], { timeoutMs: 5000 });
      expect(ps).toMatchObject({ exitCode: 0, timedOut: false });
      expect(ps.output).not.toMatch(/sleep 3[12]/);
    } finally {
      await runtime.stop(handle, { graceMs: 1000 });
    }
  });

  it('kills an instance that ignores SIGTERM after the grace period', async () => {
    const s = await spec('stubborn');
    const handle = await runtime.start(s);
    await printed(handle, 'started');
    const t0 = Date.now();
    const status = await runtime.stop(handle, { graceMs: 1000 });
    const waited = Date.now() - t0;
    expect(status).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(waited).toBeGreaterThanOrEqual(900);
    expect((await runtime.list()).some((o) => o.handle.id === s.id)).toBe(false);
  });

  it('reports starts and exits (with the code) as events, in list and at stop', async () => {
    const watch = record(runtime);
    try {
      const s = await spec('exitThree');
      const handle = await runtime.start(s);
      const exit = await eventually(
        async () => watch.events.find((e) => e.type === 'exit' && e.id === s.id),
        'exit event',
      );
      expect(exit).toMatchObject({ type: 'exit', exitCode: 3, signal: null, labels: s.labels });
      expect(watch.events.find((e) => e.type === 'start' && e.id === s.id)).toMatchObject({
        labels: s.labels,
      });
      const listed = (await runtime.list()).find((o) => o.handle.id === s.id);
      expect(listed).toMatchObject({ state: 'exited', exit: { exitCode: 3, signal: null } });
      expect(await runtime.stop(handle, { graceMs: 100 })).toEqual({ exitCode: 3, signal: null });
      expect(await runtime.stop(handle, { graceMs: 100 })).toEqual({
        exitCode: null,
        signal: null,
        note: 'already gone',
      });
    } finally {
      watch.stop();
      await watch.ended;
    }
  });

  it('kills an instance over its memory limit and says it was OOM-killed', async () => {
    const watch = record(runtime);
    try {
      const s = await spec('memoryHog', { limits: { memoryBytes: 16 * 2 ** 20 } });
      const handle = await runtime.start(s);
      const exit = await eventually(
        async () => watch.events.find((e) => e.type === 'exit' && e.id === s.id),
        'OOM exit',
      );
      expect(exit).toMatchObject({ signal: 'SIGKILL', oomKilled: true });
      const listed = (await runtime.list()).find((o) => o.handle.id === s.id);
      expect(listed?.exit).toMatchObject({ signal: 'SIGKILL', oomKilled: true });
      expect(await runtime.stop(handle, { graceMs: 100 })).toMatchObject({ oomKilled: true });
    } finally {
      watch.stop();
      await watch.ended;
    }
  });

  it('ends event streams on close()', async () => {
    const closing = await createDockerRuntime({ home });
    const watch = record(closing);
    await closing.close();
    await watch.ended;
    expect(() => closing.events()).toThrow(/closed/);
  });

  it('refuses snapshot artifacts, relative mount sources and images it does not have', async () => {
    const s = await spec('server');
    await expect(
      runtime.start({ ...s, artifact: { kind: 'snapshot', id: 'x', dir: '/tmp' } }),
    ).rejects.toMatchObject({ code: 'RUNTIME_INVALID_SPEC' });
    await expect(
      runtime.start({ ...s, mounts: [{ source: 'relative', target: '/x', readOnly: true }] }),
    ).rejects.toMatchObject({ code: 'RUNTIME_INVALID_SPEC' });
    const missing = { kind: 'image', id: 'gone', image: `sha256:${'0'.repeat(64)}` } as const;
    await expect(runtime.start({ ...s, artifact: missing })).rejects.toMatchObject({
      code: 'RUNTIME_START_FAILED',
    });
  });
});
