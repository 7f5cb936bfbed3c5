import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, realpath, stat, symlink } from 'node:fs/promises';
import { basename, isAbsolute, join, normalize } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { StartError } from '../errors.js';
import { Feed } from '../feed.js';
import type {
  BuildRequest,
  ExecResult,
  ExitStatus,
  Fingerprint,
  InstanceArtifact,
  InstanceHandle,
  InstanceSpec,
  LogLine,
  LogOptions,
  ObservedInstance,
  OwnerLabels,
  Runtime,
  RuntimeEvent,
  RuntimeOptions,
} from '../runtime.js';

import { hashTree } from './fingerprint.js';
import type { Isolation } from './launch.js';
import { detectIsolation, launchArgv, MARKERS } from './launch.js';
import { closeFds, openLogFds, readLogs, rotate } from './logs.js';
import type { ProcStat } from './proc.js';
import { isAlive, pidsWithMarker, procCmdline, procCwd, procEnviron, procStat } from './proc.js';
import type { InstanceRecord } from './records.js';
import { InstanceRecords } from './records.js';

/** Where snapshots come from: the artifact store, seen from here. */

/** What stands between unshare and an instance's command: its PID 1. */
const WRAPPERS = new Set(['unshare', 'tini', 'tini-static']);

export interface SnapshotSource {
  ensureSnapshot(request: BuildRequest): Promise<{ id: string; dir: string }>;
  /** A fresh copy of a snapshot, files read-only. */
  materialize(id: string, dest: string): Promise<unknown>;
}

export interface ProcessRuntimeOptions extends RuntimeOptions {
  readonly snapshots: SnapshotSource;
  /** Rotate an instance's stdout/stderr past this size (default 10 MiB). */
  readonly logMaxBytes?: number;
  /** Rotated files kept per stream (default 3). */
  readonly logKeep?: number;
  /** 'off' runs plain processes even as root (tests of the fallback). */
  readonly isolation?: 'auto' | 'off';
  /** How often instances Drover did not start are checked for exits (default 250 ms). */
  readonly pollMs?: number;
  /** Told once when isolation or limits are not available here. */
  readonly onWarning?: (message: string) => void;
}

/** A short stable id of a home, carried by instances so two homes never adopt each other's. */
export async function homeId(home: string): Promise<string> {
  const real = await realpath(home).catch(() => home);
  return createHash('sha256').update(real).digest('hex').slice(0, 12);
}

export async function createProcessRuntime(
  options: ProcessRuntimeOptions,
): Promise<ProcessRuntime> {
  await mkdir(join(options.home, 'instances'), { recursive: true, mode: 0o700 });
  await mkdir(join(options.home, 'logs'), { recursive: true, mode: 0o700 });
  const isolation = await detectIsolation(options.isolation ?? 'auto');
  if (isolation.notes.length > 0) {
    (options.onWarning ?? ((m: string) => process.emitWarning(m, 'DroverRuntimeWarning')))(
      `process runtime: ${isolation.notes.join('; ')}`,
    );
  }
  const runtime = new ProcessRuntime(options, isolation, await homeId(options.home));
  await runtime.adoptRunning();
  return runtime;
}

/**
 * Instances as local processes, each in its own copy of the artifact, its own
 * process group (and, as root, its own namespaces and cgroup), writing to log
 * files that outlive it. Instances outlive Drover: they are found again by
 * the markers in their environment, checked against pid and start time.
 */
export class ProcessRuntime implements Runtime {
  readonly kind = 'process';
  private readonly records: InstanceRecords;
  private readonly feed = new Feed<RuntimeEvent>();
  private readonly children = new Map<
    string,
    { child: ChildProcess; exited: Promise<ExitStatus> }
  >();
  /** Running instances this process did not start: watched by polling. */
  private readonly adopted = new Map<string, InstanceRecord>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    private readonly options: ProcessRuntimeOptions,
    readonly isolation: Isolation,
    private readonly home: string,
  ) {
    this.records = new InstanceRecords(join(options.home, 'instances'));
    const poll = setInterval(() => void this.pollAdopted(), options.pollMs ?? 250);
    const rotation = setInterval(() => void this.rotateAll(), 5000);
    poll.unref();
    rotation.unref();
    this.timers.push(poll, rotation);
  }

  private logDir(id: string): string {
    return join(this.options.home, 'logs', id);
  }

  async build(request: BuildRequest): Promise<InstanceArtifact> {
    if (request.dockerfile !== undefined) {
      throw new StartError(
        `artifact ${request.id} is a Docker image; the process runtime runs directory snapshots`,
      );
    }
    const snapshot = await this.options.snapshots.ensureSnapshot(request);
    return { kind: 'snapshot', id: snapshot.id, dir: snapshot.dir };
  }

  async start(spec: InstanceSpec): Promise<InstanceHandle> {
    if (this.closed) throw new StartError('the process runtime is closed');
    if (spec.artifact.kind !== 'snapshot') {
      throw new StartError(
        `instance ${spec.id}: the process runtime runs snapshots, not Docker images`,
      );
    }
    if (spec.command === undefined || spec.command.length === 0) {
      throw new StartError(`instance ${spec.id}: the process runtime needs a command`);
    }
    const root = this.records.rootDir(spec.id);
    await mkdir(this.records.dir(spec.id), { recursive: true, mode: 0o700 });
    await this.options.snapshots.materialize(spec.artifact.id, root);
    await this.mount(root, spec);
    await mkdir(this.logDir(spec.id), { recursive: true, mode: 0o700 });

    const cgroups = this.isolation.cgroups;
    if (cgroups)
      await cgroups.create(spec.id, {
        memoryBytes: spec.limits?.memoryBytes,
        cpus: spec.limits?.cpus,
      });
    const fds = openLogFds(this.logDir(spec.id));
    const [file, ...args] = launchArgv(spec.command, this.isolation);
    let child: ChildProcess;
    try {
      child = spawn(file as string, args, {
        cwd: root,
        env: this.environment(spec, root),
        stdio: ['ignore', fds[0], fds[1]],
        // Its own process group and session: Ctrl-C in Drover's terminal does not reach it, and it outlives Drover.
        detached: true,
      });
    } finally {
      closeFds(fds);
    }
    // Listen for the exit at once: a command can be gone before the steps below finish.
    const exitedRaw = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
      },
    );
    const spawned = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid as number));
      child.once('error', (error) =>
        reject(
          new StartError(`instance ${spec.id}: cannot run ${spec.command?.[0]}: ${error.message}`, {
            cause: error,
          }),
        ),
      );
    });
    if (cgroups) await cgroups.adopt(spec.id, spawned);
    const stat = await procStat(spawned);
    const handle: InstanceHandle = {
      runtime: 'process',
      id: spec.id,
      port: spec.port,
      pid: spawned,
      startTime: stat?.startTime ?? 0,
      dir: root,
      startedAt: new Date().toISOString(),
    };
    const record: InstanceRecord = {
      handle,
      labels: spec.labels,
      command: spec.command,
      namespaced: this.isolation.namespaces,
      cgroup: cgroups !== undefined,
    };
    await this.records.write(record);
    this.feed.publish({ type: 'start', id: spec.id, labels: spec.labels, at: handle.startedAt });
    const exited = exitedRaw.then(async ({ code, signal }) => {
      const status: ExitStatus = {
        exitCode: code,
        signal,
        ...((await cgroups?.oomKilled(spec.id)) ? { oomKilled: true } : {}),
      };
      // The instance may already be stopped and its record removed; do not bring it back.
      if (this.children.has(spec.id))
        await this.records.write({ ...record, exit: status }).catch(() => undefined);
      this.feed.publish({
        type: 'exit',
        id: spec.id,
        labels: spec.labels,
        at: new Date().toISOString(),
        ...status,
      });
      return status;
    });
    this.children.set(spec.id, { child, exited });
    child.unref();
    return handle;
  }

  private environment(spec: InstanceSpec, root: string): NodeJS.ProcessEnv {
    return {
      PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: process.env['LANG'] ?? 'C.UTF-8',
      HOME: root,
      ...spec.env,
      PORT: String(spec.port),
      [MARKERS.instance]: spec.id,
      [MARKERS.stack]: spec.labels.stack,
      [MARKERS.service]: spec.labels.service,
      [MARKERS.revision]: spec.labels.revision,
      [MARKERS.home]: this.home,
    };
  }

  /**
   * Volumes, configs and secrets appear at their paths in the instance's
   * copy: volumes as links to their directory, configs and secrets as
   * read-only files (a copy, so the instance cannot change the source).
   */
  private async mount(root: string, spec: InstanceSpec): Promise<void> {
    for (const m of spec.mounts ?? []) {
      const target = normalize(m.target);
      if (isAbsolute(target) || target.startsWith('..')) {
        throw new StartError(
          `instance ${spec.id}: mount target '${m.target}' must be a path inside the instance`,
        );
      }
      const path = join(root, target);
      await mkdir(join(path, '..'), { recursive: true });
      if (m.readOnly) {
        await cp(m.source, path, { recursive: true });
        await chmod(path, (await stat(path)).isDirectory() ? 0o555 : 0o444);
      } else {
        await symlink(m.source, path);
      }
    }
  }

  async stop(handle: InstanceHandle, options: { readonly graceMs: number }): Promise<ExitStatus> {
    this.payloads.delete(handle.id);
    const record = await this.records.read(handle.id);
    const own = this.children.get(handle.id);
    const alive =
      handle.pid !== undefined &&
      handle.startTime !== undefined &&
      (await isAlive(handle.pid, handle.startTime));
    if (alive || (await this.members(handle.id)).length > 0) {
      await this.signalAll(handle, 'SIGTERM');
      const deadline = Date.now() + options.graceMs;
      while (Date.now() < deadline && (await this.members(handle.id)).length > 0) await sleep(20);
      if ((await this.members(handle.id)).length > 0) await this.signalAll(handle, 'SIGKILL');
      const hardDeadline = Date.now() + 5000;
      while (Date.now() < hardDeadline && (await this.members(handle.id)).length > 0) {
        await this.signalAll(handle, 'SIGKILL');
        await sleep(20);
      }
    }
    const status: ExitStatus = own
      ? await own.exited
      : (record?.exit ?? {
          exitCode: null,
          signal: null,
          note: alive ? 'stopped while Drover was not its parent' : 'already gone',
        });
    if (!own && alive) {
      this.feed.publish({
        type: 'exit',
        id: handle.id,
        labels: record?.labels ?? unknownLabels(handle.id),
        at: new Date().toISOString(),
        ...status,
      });
    }
    this.children.delete(handle.id);
    this.adopted.delete(handle.id);
    await this.isolation.cgroups?.remove(handle.id);
    await this.records.remove(handle.id);
    return status;
  }

  /** Every live process of the instance: its group, its cgroup, and anything carrying its marker. */
  private async members(id: string): Promise<number[]> {
    const marked = [...(await pidsWithMarker(MARKERS.instance, id)).keys()];
    const grouped = (await this.isolation.cgroups?.pids(id)) ?? [];
    const live = await Promise.all(
      [...new Set([...marked, ...grouped])].map(async (pid) =>
        (await procStat(pid))?.state === 'Z' ? undefined : pid,
      ),
    );
    return live.filter((p): p is number => p !== undefined);
  }

  private async signalAll(handle: InstanceHandle, signal: NodeJS.Signals): Promise<void> {
    if (
      handle.pid !== undefined &&
      handle.startTime !== undefined &&
      (await isAlive(handle.pid, handle.startTime))
    ) {
      try {
        process.kill(-handle.pid, signal);
      } catch {
        // The group is already gone.
      }
    }
    for (const pid of await this.members(handle.id)) {
      try {
        process.kill(pid, signal);
      } catch {
        // Exited between the scan and the signal.
      }
    }
  }

  async list(): Promise<ObservedInstance[]> {
    const out: ObservedInstance[] = [];
    const seen = new Set<string>();
    for (const record of await this.records.all()) {
      const { handle } = record;
      seen.add(handle.id);
      const running =
        handle.pid !== undefined &&
        handle.startTime !== undefined &&
        (await isAlive(handle.pid, handle.startTime));
      out.push({
        handle,
        labels: record.labels,
        state: running ? 'running' : 'exited',
        ...(running
          ? {}
          : {
              exit: record.exit ?? {
                exitCode: null,
                signal: null,
                note: 'exited while Drover was not its parent',
              },
            }),
      });
    }
    // Processes that carry this home's markers but no record: rogue or left over.
    const marked = await pidsWithMarker(MARKERS.home, this.home);
    for (const [pid, env] of marked) {
      const id = env[MARKERS.instance];
      if (id === undefined || seen.has(id)) continue;
      const parent = await procStat(pid);
      const parentEnv = parent ? await procEnviron(parent.ppid) : undefined;
      if (parentEnv?.[MARKERS.instance] === id) continue; // not the top process of the instance
      seen.add(id);
      out.push({
        handle: {
          runtime: 'process',
          id,
          port: Number(env['PORT'] ?? 0),
          pid,
          startTime: parent?.startTime ?? 0,
          startedAt: '',
        },
        labels: labelsFrom(env, id),
        state: 'running',
      });
    }
    return out;
  }

  /** Records of instances still running at start-up are watched for exits. */
  async adoptRunning(): Promise<void> {
    for (const record of await this.records.all()) {
      const { pid, startTime } = record.handle;
      if (
        record.exit === undefined &&
        pid !== undefined &&
        startTime !== undefined &&
        (await isAlive(pid, startTime))
      ) {
        this.adopted.set(record.handle.id, record);
      }
    }
  }

  private async pollAdopted(): Promise<void> {
    for (const [id, record] of this.adopted) {
      const { pid, startTime } = record.handle;
      if (pid !== undefined && startTime !== undefined && (await isAlive(pid, startTime))) continue;
      if (!this.adopted.delete(id)) continue;
      const status: ExitStatus = {
        exitCode: null,
        signal: null,
        ...((await this.isolation.cgroups?.oomKilled(id)) ? { oomKilled: true } : {}),
        note: 'exited while Drover was not its parent: the exit code is not known',
      };
      await this.records.write({ ...record, exit: status }).catch(() => undefined);
      this.feed.publish({
        type: 'exit',
        id,
        labels: record.labels,
        at: new Date().toISOString(),
        ...status,
      });
    }
  }

  private async rotateAll(): Promise<void> {
    for (const record of await this.records.all()) {
      await rotate(
        this.logDir(record.handle.id),
        this.options.logMaxBytes ?? 10 * 2 ** 20,
        this.options.logKeep ?? 3,
      ).catch(() => undefined);
    }
  }

  /** Rotates logs now (tests, and before reading a large log). */
  async rotateLogs(): Promise<void> {
    await this.rotateAll();
  }

  async inspect(handle: InstanceHandle): Promise<Fingerprint> {
    const record = await this.records.read(handle.id);
    const payload = await this.payloadPid(handle);
    const markers = new Set<string>(Object.values(MARKERS));
    const live = payload === undefined ? {} : ((await procEnviron(payload)) ?? {});
    const env = Object.fromEntries(Object.entries(live).filter(([name]) => !markers.has(name)));
    return {
      runtime: 'process',
      command: payload === undefined ? record?.command : await procCmdline(payload),
      env,
      cwd: payload === undefined ? undefined : await procCwd(payload),
      files: await hashTree(this.records.rootDir(handle.id)),
    };
  }

  /** The process running the instance's own command (not unshare or the init in front of it). */
  private async payloadPid(handle: InstanceHandle): Promise<number | undefined> {
    if (
      handle.pid === undefined ||
      handle.startTime === undefined ||
      !(await isAlive(handle.pid, handle.startTime))
    ) {
      return undefined;
    }
    const record = await this.records.read(handle.id);
    if (!record?.namespaced) return handle.pid;
    // Finding it scans every process's environment: remember it while it lives (drift scans ask often).
    const known = this.payloads.get(handle.id);
    if (known !== undefined && (await isAlive(known.pid, known.startTime))) return known.pid;
    // unshare → (init) → command: the command is the first marked process whose argv is the record's command.
    const marked = [...(await pidsWithMarker(MARKERS.instance, handle.id)).keys()].sort(
      (a, b) => a - b,
    );
    const facts = await Promise.all(
      marked.map(async (pid) => ({ pid, argv: await procCmdline(pid), stat: await procStat(pid) })),
    );
    const remember = (f: (typeof facts)[number]): number => {
      this.payloads.set(handle.id, { pid: f.pid, startTime: (f.stat as ProcStat).startTime });
      return f.pid;
    };
    const exact = facts.find(
      (f) => f.stat && f.argv && f.argv.join('\0') === record.command.join('\0'),
    );
    if (exact) return remember(exact);
    // The command replaced itself (`sh -c 'exec …'`): the first process under unshare and the init.
    const wrappers = new Set([handle.pid]);
    for (const f of facts) {
      if (f.stat && wrappers.has(f.stat.ppid) && WRAPPERS.has(basename(f.argv?.[0] ?? '')))
        wrappers.add(f.pid);
    }
    const under = facts.find((f) => f.stat && !wrappers.has(f.pid) && wrappers.has(f.stat.ppid));
    return under ? remember(under) : handle.pid;
  }

  /** Instance id → the pid (and start time) of the process running its command. */
  private readonly payloads = new Map<string, { pid: number; startTime: number }>();

  logs(handle: InstanceHandle, options: LogOptions = {}): AsyncIterable<LogLine> {
    return readLogs(this.logDir(handle.id), {
      ...options,
      keep: this.options.logKeep ?? 3,
      stillRunning: async () =>
        handle.pid !== undefined &&
        handle.startTime !== undefined &&
        (await isAlive(handle.pid, handle.startTime)),
    });
  }

  async exec(
    handle: InstanceHandle,
    argv: readonly string[],
    options: { readonly timeoutMs: number },
  ): Promise<ExecResult> {
    const payload = await this.payloadPid(handle);
    const env = payload === undefined ? undefined : await procEnviron(payload);
    if (payload === undefined || env === undefined)
      return { exitCode: null, output: 'instance is not running', timedOut: false };
    const record = await this.records.read(handle.id);
    const full = record?.namespaced
      ? [
          'nsenter',
          '--target',
          String(payload),
          '--pid',
          '--mount',
          '--uts',
          '--ipc',
          '--',
          ...argv,
        ]
      : [...argv];
    return runWithTimeout(full, {
      cwd: this.records.rootDir(handle.id),
      env,
      timeoutMs: options.timeoutMs,
    });
  }

  events(signal?: AbortSignal): AsyncIterable<RuntimeEvent> {
    return this.feed.subscribe(signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.feed.close();
  }
}

function labelsFrom(env: Record<string, string>, id: string): OwnerLabels {
  return {
    instance: id,
    stack: env[MARKERS.stack] ?? '',
    service: env[MARKERS.service] ?? '',
    revision: env[MARKERS.revision] ?? '',
  };
}

function unknownLabels(id: string): OwnerLabels {
  return { instance: id, stack: '', service: '', revision: '' };
}

/** Runs an argv with a time limit, killing its whole group when the time is up. */
export function runWithTimeout(
  argv: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    const child = spawn(file as string, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timedOut = false;
    const collect = (chunk: Buffer): void => {
      if (output.length < 64 * 1024) output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ exitCode: null, output: error.message, timedOut: false });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: timedOut ? null : code, output, timedOut });
    });
  });
}
