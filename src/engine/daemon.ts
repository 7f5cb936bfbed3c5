import type { ArtifactStore } from '../artifact/index.js';
import { openArtifactStore } from '../artifact/index.js';
import { DroverMetrics } from '../observe/index.js';
import { followRegistry, Proxy } from '../proxy/index.js';
import type { RegistrySnapshot } from '../registry/index.js';
import { Registry } from '../registry/index.js';
import type { PortRange, Runtime, RuntimeKind } from '../runtime/index.js';
import {
  createDockerRuntime,
  createProcessRuntime,
  DEFAULT_PORT_RANGE,
  PortAllocator,
} from '../runtime/index.js';
import type { Sealer } from '../secrets/index.js';
import { openSealer } from '../secrets/index.js';
import type { Store } from '../store/index.js';
import { openDefaultStore } from '../store/index.js';
import type { ResolvedStack } from '../template/index.js';

import type { ApplyContext } from './apply.js';
import { openRevision, serviceTarget } from './apply.js';
import { ConfigTemplates } from './config-templates.js';
import { finishKeep } from './deploy/strategies.js';
import type { DeployContext } from './deploy/types.js';
import { DroverEngine } from './engine.js';
import { EventLog } from './events.js';
import type { HomeLock } from './home-lock.js';
import { lockHome } from './home-lock.js';
import { JobRunner } from './jobs.js';
import { loadKey } from './keys.js';
import { materializeMounts, removeMounts } from './mounts.js';
import type { ReconcilerOptions } from './reconciler.js';
import { Reconciler } from './reconciler.js';
import { readRecordedState } from './records.js';
import { recover } from './recover.js';
import type { InstanceRecord } from './state.js';
import {
  DeploymentBook,
  InstanceBook,
  RevisionBook,
  StackRevisionBook,
  TargetBook,
} from './state.js';
import type { TrafficSwitch } from './traffic.js';
import { proxySwitch } from './traffic.js';
import type { EngineEvent, InstanceInfo } from './types.js';

export interface DaemonOptions {
  /** $DROVER_HOME */
  readonly home: string;
  readonly proxy: { readonly host: string; readonly port: number };
  readonly ports?: PortRange;
  readonly readyTimeoutMs?: number;
  readonly drainTimeoutMs?: number;
  /** Told about things an operator should know (missing isolation, recovery). */
  readonly onWarning?: (message: string) => void;
  /** Test hook: the clock job schedules are read against. */
  readonly now?: () => Date;
  /** Test hook: SIGKILL this process at the named point of a deployment (DROVER_FAILPOINT). */
  readonly failpoint?: string;
  /** The reconcile loop's timings and thresholds (defaults suit production). */
  readonly reconcile?: ReconcilerOptions;
  /** Told about every event the daemon records, from the first (the daemon's log). */
  readonly onEvent?: (event: EngineEvent) => void;
  /** Process and Node.js metrics on /metrics (default true). */
  readonly processMetrics?: boolean;
}

/**
 * The control plane in one process: state store, artifact store, runtimes,
 * registry, proxy and engine, wired together. On start it re-adopts running
 * instances and converges anything a crash interrupted.
 */
export class Daemon {
  readonly engine: DroverEngine;
  readonly proxy: Proxy;
  readonly registry: Registry;
  readonly events: EventLog;
  /** What `/metrics` serves: this daemon's own Prometheus registry. */
  readonly metrics: DroverMetrics;
  private readonly runtimes = new Map<RuntimeKind, Promise<Runtime>>();
  private readonly health = new Map<string, InstanceInfo['health']>();
  private picture: RegistrySnapshot = { revision: 0, endpoints: [], routes: [] };
  private readonly stop = new AbortController();
  private keeper: NodeJS.Timeout | undefined;
  private keeping = false;
  private readonly deployContext: DeployContext;
  readonly configTemplates: ConfigTemplates;
  readonly jobs: JobRunner;
  readonly reconciler: Reconciler;

  private constructor(
    readonly options: DaemonOptions,
    readonly store: Store,
    readonly sealer: Sealer,
    readonly artifacts: ArtifactStore,
    readonly books: {
      instances: InstanceBook;
      deployments: DeploymentBook;
      revisions: RevisionBook;
      stackRevisions: StackRevisionBook;
      targets: TargetBook;
    },
    readonly traffic: TrafficSwitch,
    proxy: Proxy,
    readonly proxyUrl: string,
    private readonly lock: HomeLock,
  ) {
    this.proxy = proxy;
    this.registry = new Registry(store);
    this.events = new EventLog(store);
    this.metrics = new DroverMetrics(
      {
        instances: () => this.engine.instances(),
        driftFindings: () => this.reconciler.driftFindings(),
        proxy: () => proxy.metrics.snapshot(),
      },
      { processMetrics: options.processMetrics ?? true },
    );
    this.events.listen((event) => this.metrics.event(event));
    if (options.onEvent) this.events.listen(options.onEvent);
    this.configTemplates = new ConfigTemplates({
      registry: this.registry,
      home: options.home,
      record: (e) => void this.events.record(e),
    });
    this.jobs = new JobRunner({
      runtime: (kind) => this.runtime(kind),
      ports: new PortAllocator(store, options.ports ?? DEFAULT_PORT_RANGE),
      record: (e) => void this.events.record(e),
      mounts: (target, id) => this.deployContext.mounts(target, id),
      unmount: (id) => this.deployContext.unmount(id),
      ...(options.now ? { now: options.now } : {}),
    });
    const ports = new PortAllocator(store, options.ports ?? DEFAULT_PORT_RANGE);
    this.deployContext = this.makeDeployContext(ports, () => undefined);
    this.engine = new DroverEngine({
      home: options.home,
      store,
      sealer,
      events: this.events,
      registry: this.registry,
      ...books,
      proxyUrl,
      hiddenKey: loadKey(options.home, 'hidden', true) as Uint8Array,
      applyContext: (progress) => this.applyContext(ports, progress),
      health: (instance) => this.instanceHealth(instance),
      drift: (filter) => this.reconciler.scanDrift(filter),
      runtime: (kind) => this.runtime(kind),
    });
    this.reconciler = new Reconciler(
      {
        store,
        sealer,
        instances: books.instances,
        revisions: books.revisions,
        stackRevisions: books.stackRevisions,
        deploy: this.deployContext,
        openRuntimes: () => this.openRuntimes(),
        busy: (stack) => this.engine.busy(stack),
        generation: () => this.engine.generation(),
        exclusive: (stack, task) => this.engine.exclusive(stack, task, false),
        rollback: (stack, service, to) =>
          this.engine.rollbackService(stack, service, { to, who: 'drover (reconcile)' }),
        health: this.health,
        ownedElsewhere: (labels) => this.jobs.owns(labels),
        renderedDrift: () => this.configTemplates.drift(),
        onPass: (seconds) => this.metrics.reconcilePass(seconds),
        record: (e) => void this.events.record(e),
      },
      options.reconcile,
    );
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const lock = lockHome(options.home);
    const opened: { close(): unknown }[] = [];
    let handedOver = false;
    try {
      const store = openDefaultStore(options.home);
      opened.push(store);
      const sealer = openSealer(options.home);
      const artifacts = openArtifactStore({ home: options.home, store });
      opened.push(artifacts);
      const proxy = new Proxy({
        host: options.proxy.host,
        port: options.proxy.port,
        drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
      });
      const address = await proxy.listen();
      opened.push(proxy);
      const proxyUrl = `http://${address.address}:${address.port}`;
      const books = {
        instances: new InstanceBook(store),
        deployments: new DeploymentBook(store),
        revisions: new RevisionBook(store),
        stackRevisions: new StackRevisionBook(store),
        targets: new TargetBook(store),
      };
      const daemon = new Daemon(
        options,
        store,
        sealer,
        artifacts,
        books,
        proxySwitch(proxy),
        proxy,
        proxyUrl,
        lock,
      );
      // From here on the daemon's own close() releases everything.
      handedOver = true;
      try {
        await daemon.begin();
      } catch (error) {
        await daemon.close();
        throw error;
      }
      return daemon;
    } catch (error) {
      if (handedOver) throw error;
      for (const part of opened.reverse())
        await Promise.resolve(part.close()).catch(() => undefined);
      lock.release();
      throw error;
    }
  }

  private async begin(): Promise<void> {
    const { done } = await followRegistry(this.proxy, this.registry, { signal: this.stop.signal });
    void done.catch(() => undefined);
    void this.followPicture();
    await this.runtime('process');
    const pending = await recover({
      store: this.store,
      sealer: this.sealer,
      books: this.books,
      registry: this.registry,
      runtime: (kind) => this.runtime(kind),
      dockerWanted: async () =>
        (await this.books.instances.list()).some((r) => r.runtime === 'docker'),
      ports: this.deployContext.ports,
      unmount: (id) => this.deployContext.unmount(id),
      configTemplates: this.configTemplates,
      jobs: this.jobs,
      record: (e) => void this.events.record(e),
    });
    await this.events.record({
      type: 'daemon.started',
      message: `daemon started; proxy on ${this.proxyUrl}`,
      data: { proxy: this.proxyUrl },
    });
    // Interrupted applies converge to the state they were heading for.
    for (const target of pending) {
      const desired = this.sealer.openJson(
        target.sealed,
        `target:${target.stack}`,
      ) as ResolvedStack;
      void this.engine
        .resume(desired, target.who, target.kind === 'rollback' ? 'rollback' : 'apply')
        .then((result) =>
          this.events.record({
            type: 'daemon.recovered',
            stack: target.stack,
            message: `interrupted ${target.kind} of ${target.stack}: ${result.status}`,
          }),
        );
    }
    this.keeper = setInterval(() => {
      // A drain can outlast the interval: one round at a time.
      if (this.keeping) return;
      this.keeping = true;
      void this.finishKeeps().finally(() => {
        this.keeping = false;
      });
    }, 1000);
    this.keeper.unref();
    await this.reconciler.start();
  }

  /** The runtimes opened so far (Docker is opened only when a stack uses it). */
  private async openRuntimes(): Promise<Runtime[]> {
    const opened = await Promise.allSettled([...this.runtimes.values()]);
    return opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  /** The instance is healthy and fresh from its revision: what drift is measured against. */
  private async baseline(record: InstanceRecord): Promise<void> {
    if (record.handle === undefined) return;
    const runtime = await this.runtime(record.runtime);
    await this.reconciler.fingerprints.put(record, await runtime.inspect(record.handle));
  }

  private async followPicture(): Promise<void> {
    const { follow } = await import('../registry/index.js');
    try {
      for await (const picture of follow(this.registry, { signal: this.stop.signal }))
        this.picture = picture;
    } catch {
      // The store closed with the daemon.
    }
  }

  private instanceHealth(instance: string): { serving: boolean; health: InstanceInfo['health'] } {
    const endpoint = this.picture.endpoints.find((e) => e.instance === instance);
    const serving =
      endpoint !== undefined && endpoint.healthy && !endpoint.draining && endpoint.weight > 0;
    return {
      serving,
      health: this.health.get(instance) ?? (endpoint?.healthy ? 'healthy' : 'unknown'),
    };
  }

  /** The runtime of a kind, created on first use (Docker only when a stack needs it). */
  runtime(kind: RuntimeKind): Promise<Runtime> {
    let runtime = this.runtimes.get(kind);
    if (runtime === undefined) {
      runtime =
        kind === 'docker'
          ? createDockerRuntime({ home: this.options.home })
          : createProcessRuntime({
              home: this.options.home,
              snapshots: this.artifacts,
              ...(this.options.onWarning ? { onWarning: this.options.onWarning } : {}),
            });
      runtime.then(
        (opened) => void this.countRuntime(opened),
        () => this.runtimes.delete(kind),
      );
      this.runtimes.set(kind, runtime);
    }
    return runtime;
  }

  /** Starts and exits, for the metrics (subscribed before anyone can start an instance on it). */
  private async countRuntime(runtime: Runtime): Promise<void> {
    try {
      for await (const event of runtime.events(this.stop.signal))
        this.metrics.runtimeEvent(runtime.kind, event);
    } catch (error) {
      if (!this.stop.signal.aborted) this.options.onWarning?.(`runtime events: ${String(error)}`);
    }
  }

  private makeDeployContext(
    ports: PortAllocator,
    progress: (event: EngineEvent) => void,
  ): DeployContext {
    const home = this.options.home;
    return {
      runtime: (kind) => this.runtime(kind),
      ports,
      instances: this.books.instances,
      deployments: this.books.deployments,
      registry: this.registry,
      traffic: this.traffic,
      mounts: (target, instance) =>
        materializeMounts(home, target, instance, (resource) =>
          this.contentOf(target.stack, resource),
        ),
      unmount: (instance) => removeMounts(home, instance),
      ready: (record) => this.baseline(record),
      progress: (event) => {
        const instance = event.data?.['instance'];
        if (
          typeof instance === 'string' &&
          (event.phase === 'healthy' || event.phase === 'unhealthy')
        )
          this.health.set(instance, event.phase);
        void this.events.record(event).then(progress);
      },
      failpoint: (name) => {
        if ((this.options.failpoint ?? process.env['DROVER_FAILPOINT']) === name)
          process.kill(process.pid, 'SIGKILL');
      },
      options: {
        readyTimeoutMs: this.options.readyTimeoutMs ?? 60_000,
        drainTimeoutMs: this.options.drainTimeoutMs ?? 30_000,
      },
    };
  }

  /** Contents of configs and secrets, from the revisions of the current apply. */
  private readonly contents = new Map<string, string>();

  private async contentOf(stack: string, resource: string): Promise<string> {
    const content = this.contents.get(`${stack}/${resource}`);
    if (content !== undefined) return content;
    // Started after a restart (a heal): the content of the revision the stack records.
    const recorded = (await readRecordedState(this.store, stack)).resources[resource];
    const stored = recorded && (await this.books.revisions.get(stack, resource, recorded.revision));
    if (!recorded || !stored) throw new Error(`the content of ${stack}/${resource} is not known`);
    const props = openRevision(this.sealer, stored) as { content: string };
    this.contents.set(`${stack}/${resource}`, props.content);
    return props.content;
  }

  /** Makes config and secret contents of a desired stack available to mounts. */
  rememberContents(stack: ResolvedStack): void {
    for (const r of stack.resources) {
      if (r.type === 'Drover::Config' || r.type === 'Drover::Secret')
        this.contents.set(`${stack.name}/${r.name}`, r.properties.content);
    }
  }

  private applyContext(ports: PortAllocator, progress: (event: EngineEvent) => void): ApplyContext {
    const deploy = this.makeDeployContext(ports, progress);
    return {
      home: this.options.home,
      store: this.store,
      sealer: this.sealer,
      deploy,
      ...this.books,
      runtime: (kind) => this.runtime(kind),
      configTemplates: this.configTemplates,
      jobs: {
        set: (stack, resource, artifact, who) =>
          this.jobs.set(stack, resource, artifact, who, deploy.progress),
        remove: async (stack, name) => this.jobs.remove(stack, name),
      },
      remember: (stack: ResolvedStack) => this.rememberContents(stack),
      progress: deploy.progress,
    };
  }

  /** blue-green: previous sets whose keep time is over are drained and stopped. */
  private async finishKeeps(): Promise<void> {
    for (const d of await this.books.deployments.list()) {
      if (
        d.phase !== 'keeping' ||
        d.keepUntil === undefined ||
        Date.parse(d.keepUntil) > Date.now()
      )
        continue;
      const recorded = await this.store.get(`/stacks/${d.stack}/resources/${d.service}`);
      const grace = recorded
        ? Number(
            (JSON.parse(recorded.value) as { spec: { stop_grace?: number } }).spec.stop_grace ??
              10_000,
          )
        : 10_000;
      await finishKeep(this.deployContext, d.stack, d.service, d.to, grace).catch(() => undefined);
    }
  }

  /** Stops the control plane; instances keep running and are re-adopted by the next start. */
  async close(): Promise<void> {
    await this.reconciler.close();
    this.stop.abort();
    if (this.keeper) clearInterval(this.keeper);
    await this.configTemplates.close();
    await this.jobs.close();
    await this.proxy.close();
    for (const runtime of this.runtimes.values())
      await (await runtime.catch(() => undefined))?.close();
    await this.artifacts.close();
    await this.store.close();
    this.lock.release();
  }

  /** A service target from a recorded revision (used by recovery and rollback). */
  static serviceTarget = serviceTarget;
}
