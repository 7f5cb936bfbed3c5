import type {
  Decision,
  DriftFinding,
  DriftReport,
  InstanceView,
  OrphanView,
  ReconcileSettings,
  RenderedDrift,
  ServiceView,
} from '../reconcile/index.js';
import { decide, DEFAULT_SETTINGS, describeChange, diffFingerprint } from '../reconcile/index.js';
import type {
  ExitStatus,
  HealthCheckSpec,
  InstanceHandle,
  ObservedInstance,
  OwnerLabels,
  Runtime,
  RuntimeKind,
} from '../runtime/index.js';
import { describeExit, HealthMonitor, probeFor } from '../runtime/index.js';
import type { Sealer } from '../secrets/index.js';
import type { Store } from '../store/index.js';
import type { ServiceProperties } from '../template/index.js';

import { openRevision, serviceTarget } from './apply.js';
import {
  DeployError,
  drainAndStop,
  endpointKeyOf,
  endpointOf,
  startInstance,
  stopInstance,
  waitReady,
} from './deploy/instances.js';
import type { DeployContext, ServiceTarget } from './deploy/types.js';
import type { NewEvent } from './events.js';
import { forgetInstance } from './forget.js';
import type { InstanceBook, InstanceRecord, RevisionBook, StackRevisionBook } from './state.js';
import { FingerprintBook } from './state.js';
import type { InstanceInfo } from './types.js';

export interface ReconcilerOptions extends Partial<ReconcileSettings> {
  /** Time between full passes (each also lists what the runtimes run). */
  readonly intervalMs?: number;
  /** Time between drift scans. */
  readonly driftIntervalMs?: number;
}

export interface ReconcilerParts {
  readonly store: Store;
  readonly sealer: Sealer;
  readonly instances: InstanceBook;
  readonly revisions: RevisionBook;
  readonly stackRevisions: StackRevisionBook;
  readonly deploy: DeployContext;
  /** The runtimes the daemon has opened so far (Docker only once a stack used it). */
  openRuntimes(): Promise<Runtime[]>;
  /** Whether an apply, rollback or destroy of the stack is under way. */
  busy(stack: string): boolean;
  /** Changes whenever such an operation is queued or ends, on any stack (see DroverEngine.generation). */
  generation(): number;
  /** Runs `task` in turn with the engine's operations on the stack. */
  exclusive<T>(stack: string, task: () => Promise<T>): Promise<T>;
  /** Rolls a service back to an earlier revision (through the engine, like `drover rollback`). */
  rollback(stack: string, service: string, to: string): Promise<unknown>;
  /** Instances that other parts own without an instance record (attempts of running jobs). */
  ownedElsewhere(labels: OwnerLabels): boolean;
  /** Health as the reconciler sees it, shared with `drover ps`. */
  readonly health: Map<string, InstanceInfo['health']>;
  /** Drift of files rendered by config templates. */
  renderedDrift(): Promise<RenderedDrift[]>;
  record(event: NewEvent): void;
  /** Told how long each pass took to gather the facts and decide (the daemon's metrics). */
  onPass?(seconds: number): void;
}

/** When the service declares no health check, a running instance is unhealthy once PORT refuses 3 times in a row. */
const WATCH_HEALTH: HealthCheckSpec = {
  tcp: true,
  interval: 1000,
  timeout: 1000,
  healthy_threshold: 1,
  unhealthy_threshold: 3,
  start_period: 0,
};

const WHO = 'drover (reconcile)';

/** Why a heal started a fresh instance (`instance.healed` events carry it as `data.reason`). */
type HealReason = 'exited' | 'missing' | 'unhealthy' | 'drift';

interface Declared {
  readonly stack: string;
  readonly service: string;
  readonly revision: string;
  readonly replicas: number;
  readonly maxSurge: number;
  readonly drift: 'report' | 'replace';
}

/**
 * The reconcile loop: after an apply, it keeps what runs equal to what was
 * declared. Exits and health changes wake it at once; a full pass runs every
 * few seconds anyway, and a drift scan less often. What to do is decided by
 * `decide` (pure, in reconcile/); this class gathers the facts and acts.
 */
export class Reconciler {
  private readonly settings: ReconcileSettings;
  private readonly stop = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private driftTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private dirty = true;
  private running: Promise<void> | undefined;
  private readonly observed = new Map<string, { instance: ObservedInstance; runtime: Runtime }>();
  private listed = false;
  private readonly failures = new Map<
    string,
    { revision: string; at: number[]; crashes: number[] }
  >();
  private readonly healing = new Map<string, number>();
  /** Per service, why its instances were lost (exited, missing), oldest first: the reason of the heals that follow. */
  private readonly lost = new Map<string, HealReason[]>();
  private readonly replacing = new Set<string>();
  /** Instances forgotten already: a pass that read the records before that must not forget them twice. */
  private readonly gone = new Set<string>();
  private readonly orphans = new Map<string, OrphanView>();
  /** Instance id → what stops its health monitor. */
  private readonly monitors = new Map<string, AbortController>();
  private readonly drifted = new Map<string, DriftFinding>();
  private readonly failed = new Set<string>();
  private readonly renderedSeen = new Set<string>();
  private readonly targets = new Map<string, Promise<ServiceTarget>>();
  private readonly subscribed = new WeakSet<Runtime>();
  private readonly tasks = new Set<Promise<unknown>>();
  readonly fingerprints: FingerprintBook;

  constructor(
    private readonly parts: ReconcilerParts,
    private readonly options: ReconcilerOptions = {},
  ) {
    this.settings = { ...DEFAULT_SETTINGS, ...definedOnly(options) };
    this.fingerprints = new FingerprintBook(parts.store, parts.sealer);
  }

  /** Starts the loop; `close()` ends it. */
  async start(): Promise<void> {
    for (const kv of (await this.parts.store.range('/reconcile/failed/')).kvs)
      this.failed.add(kv.key.slice('/reconcile/failed/'.length));
    void this.loop();
    // What the engine records (instances, applied stacks) changes what is declared or recorded.
    for (const prefix of ['/instances/', '/stacks/']) void this.watchStore(prefix);
    this.timer = setInterval(() => this.poke(true), this.options.intervalMs ?? 2000);
    this.timer.unref();
    this.driftTimer = setInterval(
      () => void this.track(this.scanDrift()),
      this.options.driftIntervalMs ?? 30_000,
    );
    this.driftTimer.unref();
  }

  private async watchStore(prefix: string): Promise<void> {
    try {
      for await (const batch of this.parts.store.watch(prefix, { signal: this.stop.signal })) {
        void batch;
        this.poke();
      }
    } catch (error) {
      if (!this.stop.signal.aborted)
        this.parts.record({
          type: 'reconcile.failed',
          message: `stopped watching ${prefix}: ${(error as Error).message}; the periodic pass goes on`,
        });
    }
  }

  /** Asks for a pass soon; `list` also re-reads what the runtimes run. */
  poke(list = false): void {
    if (list) this.listed = false;
    this.dirty = true;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stop.signal.aborted) {
      if (!this.dirty) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      this.dirty = false;
      const started = performance.now();
      this.running = this.pass().then(
        () => this.parts.onPass?.((performance.now() - started) / 1000),
        (error: unknown) => {
          if (!this.stop.signal.aborted)
            this.parts.record({
              type: 'reconcile.failed',
              message: `reconcile pass failed: ${(error as Error).message}`,
            });
        },
      );
      await this.running;
    }
  }

  /** One pass: gather the facts, decide, act (actions run in the background, tracked). */
  private async pass(): Promise<void> {
    // An apply that starts or ends while the facts are gathered makes them a mix of before and after.
    const generation = this.parts.generation();
    const runtimes = await this.parts.openRuntimes();
    for (const runtime of runtimes) this.subscribe(runtime);
    // Records first, then what runs: every instance a record calls running was started before the list.
    const records = await this.parts.instances.list();
    if (records.some((r) => r.state === 'running' && !this.observed.has(r.id))) this.listed = false;
    if (!this.listed) {
      this.listed = true;
      const seen = new Set<string>();
      for (const runtime of runtimes) {
        for (const instance of await runtime.list()) {
          seen.add(instance.handle.id);
          this.observed.set(instance.handle.id, { instance, runtime });
        }
      }
      for (const id of this.observed.keys()) if (!seen.has(id)) this.observed.delete(id);
    }
    const declared = await this.declared();
    const now = Date.now();
    const known = new Set(records.map((r) => r.id));
    for (const id of this.gone) if (!known.has(id)) this.gone.delete(id);
    for (const id of this.orphans.keys()) if (known.has(id)) this.orphans.delete(id);
    for (const [id, { instance }] of this.observed) {
      // Exited leftovers are not a risk; recovery clears them on the next start.
      if (known.has(id) || this.orphans.has(id) || instance.state !== 'running') continue;
      if (this.parts.ownedElsewhere(instance.labels)) continue;
      this.orphans.set(id, {
        id,
        stack: instance.labels.stack,
        service: instance.labels.service,
        firstSeen: now,
      });
    }
    for (const id of this.orphans.keys())
      if (this.observed.get(id)?.instance.state !== 'running') this.orphans.delete(id);

    const services: ServiceView[] = declared.map((d) => this.serviceView(d));
    const instances: InstanceView[] = records.map((r) => this.instanceView(r));
    this.watchHealth(records, declared);
    const decisions = decide({
      now,
      services,
      instances,
      orphans: [...this.orphans.values()],
      settings: this.settings,
    });
    if (this.parts.generation() !== generation) {
      this.poke();
      return;
    }
    this.act(decisions, records, declared, generation);
  }

  private serviceView(d: Declared & { previous?: string }): ServiceView {
    const key = `${d.stack}/${d.service}`;
    const failures = this.failures.get(key);
    return {
      ...d,
      busy: this.parts.busy(d.stack),
      failures: failures?.revision === d.revision ? failures.at : [],
      crashes: failures?.revision === d.revision ? failures.crashes : [],
      healing: this.healing.get(key) ?? 0,
      failed: this.failed.has(`${key}/${d.revision}`),
      ...(d.previous === undefined || this.failed.has(`${key}/${d.previous}`)
        ? {}
        : { previousRevision: d.previous }),
    };
  }

  private instanceView(r: InstanceRecord): InstanceView {
    const seen = this.observed.get(r.id);
    return {
      id: r.id,
      stack: r.stack,
      service: r.service,
      revision: r.revision,
      state: r.state,
      observed: seen === undefined ? 'missing' : seen.instance.state,
      health: this.parts.health.get(r.id) ?? 'unknown',
      drifted: this.drifted.has(r.id),
      replacing: this.replacing.has(r.id),
    };
  }

  /** Services as the latest applies recorded them, with the revision each ran before. */
  private async declared(): Promise<(Declared & { previous?: string })[]> {
    const { kvs } = await this.parts.store.range('/stacks/');
    const out: (Declared & { previous?: string })[] = [];
    for (const kv of kvs) {
      const match = /^\/stacks\/([^/]+)\/resources\/(.+)$/.exec(kv.key);
      if (match === null) continue;
      const recorded = JSON.parse(kv.value) as {
        type: string;
        revision: string;
        spec: { replicas?: number; deploy?: { max_surge?: number }; drift?: string };
      };
      if (recorded.type !== 'Drover::Service') continue;
      const [, stack, service] = match as unknown as [string, string, string];
      out.push({
        stack,
        service,
        revision: recorded.revision,
        replicas: Number(recorded.spec.replicas ?? 1),
        maxSurge: Number(recorded.spec.deploy?.max_surge ?? 1),
        drift: recorded.spec.drift === 'replace' ? 'replace' : 'report',
        ...(await this.previousRevision(stack, service, recorded.revision)),
      });
    }
    return out;
  }

  private readonly previous = new Map<string, string | null>();

  /** The revision a service ran before its current one came, from the stack's history. */
  private async previousRevision(
    stack: string,
    service: string,
    current: string,
  ): Promise<{ previous?: string }> {
    const key = `${stack}/${service}/${current}`;
    let previous = this.previous.get(key);
    if (previous === undefined) {
      previous = null;
      for (const entry of await this.parts.stackRevisions.list(stack)) {
        const revision = entry.resources[service];
        if (revision !== undefined && revision !== current) {
          previous = revision;
          break;
        }
      }
      this.previous.set(key, previous);
    }
    return previous === null ? {} : { previous };
  }

  private subscribe(runtime: Runtime): void {
    if (this.subscribed.has(runtime)) return;
    this.subscribed.add(runtime);
    void (async () => {
      for await (const event of runtime.events(this.stop.signal)) {
        if (event.type !== 'exit') continue;
        const seen = this.observed.get(event.id);
        if (seen !== undefined) {
          this.observed.set(event.id, {
            runtime,
            instance: { ...seen.instance, state: 'exited', exit: event },
          });
        }
        this.poke();
      }
    })().catch(() => this.poke(true));
  }

  /** Keeps one health monitor per running instance of a current revision. */
  private watchHealth(records: readonly InstanceRecord[], declared: readonly Declared[]): void {
    const current = new Map(declared.map((d) => [`${d.stack}/${d.service}`, d.revision]));
    const wanted = new Set<string>();
    for (const r of records) {
      if (r.state !== 'running' || r.handle === undefined) continue;
      if (current.get(`${r.stack}/${r.service}`) !== r.revision) continue;
      if (this.observed.get(r.id)?.instance.state !== 'running') continue;
      wanted.add(r.id);
      if (!this.monitors.has(r.id)) this.monitor(r);
    }
    for (const [id, stop] of this.monitors) {
      if (!wanted.has(id)) {
        stop.abort();
        this.monitors.delete(id);
      }
    }
  }

  private monitor(record: InstanceRecord): void {
    const stop = new AbortController();
    this.monitors.set(record.id, stop);
    void (async () => {
      const target = await this.target(record.stack, record.service, record.revision);
      const runtime = await this.parts.deploy.runtime(record.runtime);
      const spec = target.props.health ?? WATCH_HEALTH;
      // Already judged healthy when it was started: watch it from there, without a start period.
      const monitor = new HealthMonitor(
        record.id,
        probeFor(runtime, record.handle as InstanceHandle, spec),
        { ...spec, start_period: 0 },
      );
      stop.signal.addEventListener('abort', () => monitor.stop(), { once: true });
      let last = this.parts.health.get(record.id);
      for await (const result of monitor.results(stop.signal)) {
        if (result.state === 'starting' || result.state === last) continue;
        last = result.state;
        this.parts.health.set(record.id, result.state);
        await this.parts.deploy.registry.update(endpointKeyOf(record), {
          healthy: result.state === 'healthy',
        });
        if (result.state === 'unhealthy') {
          this.noteFailure(record, true);
          this.parts.record({
            type: 'instance.unhealthy',
            stack: record.stack,
            resource: record.service,
            message: `instance ${record.id} is unhealthy (${result.detail ?? 'no detail'}); replacing it`,
            data: { instance: record.id },
          });
        }
        this.poke();
      }
    })().catch(() => stop.abort());
  }

  /**
   * Counts a failure of a revision: every one slows the next heal down
   * (backoff); crashes (it failed by itself) also count towards a crash loop,
   * kills from outside (SIGKILL or SIGTERM not sent by the OOM killer) do not.
   */
  private noteFailure(
    record: { stack: string; service: string; revision: string },
    crash: boolean,
  ): void {
    const key = `${record.stack}/${record.service}`;
    let entry = this.failures.get(key);
    if (entry?.revision !== record.revision)
      this.failures.set(key, (entry = { revision: record.revision, at: [], crashes: [] }));
    const now = Date.now();
    const recent = (list: number[]): number[] =>
      list.filter((t) => now - t < this.settings.failureWindowMs);
    entry.at = [...recent(entry.at), now];
    if (crash) entry.crashes = [...recent(entry.crashes), now];
  }

  /** What a service's instances run at a revision (its sealed properties opened, once). */
  private target(stack: string, service: string, revision: string): Promise<ServiceTarget> {
    const key = `${stack}/${service}/${revision}`;
    let target = this.targets.get(key);
    if (target === undefined) {
      target = (async () => {
        const stored = await this.parts.revisions.get(stack, service, revision);
        if (stored === undefined)
          throw new Error(
            `revision ${revision.slice(0, 12)} of ${stack}/${service} is not recorded`,
          );
        const props = openRevision(this.parts.sealer, stored) as ServiceProperties;
        return serviceTarget(this.parts, stack, service, revision, props, WHO);
      })();
      target.catch(() => this.targets.delete(key));
      this.targets.set(key, target);
    }
    return target;
  }

  /**
   * Carries decisions out. Everything that starts or stops instances of a
   * stack runs as one task in turn with the engine's operations on that
   * stack (an apply never sees a heal half done), the parts of it at once.
   */
  private act(
    decisions: readonly Decision[],
    records: readonly InstanceRecord[],
    declared: readonly Declared[],
    generation: number,
  ): void {
    const byId = new Map(records.map((r) => [r.id, r]));
    /** A job, and what undoes its bookkeeping when it does not run. */
    type Job = { run: () => Promise<unknown>; undo: () => void };
    const groups = new Map<string, Job[]>();
    const inTurn = (stack: string, run: () => Promise<unknown>, undo: () => void): void => {
      let group = groups.get(stack);
      if (group === undefined) groups.set(stack, (group = []));
      group.push({ run, undo });
    };
    for (const d of decisions) {
      switch (d.kind) {
        case 'forget': {
          const record = byId.get(d.instance);
          if (record === undefined || this.replacing.has(record.id) || this.gone.has(record.id))
            break;
          this.replacing.add(record.id);
          this.noteLost(record, declared);
          inTurn(
            d.stack,
            () => this.forget(record, d.reason),
            () => this.replacing.delete(record.id),
          );
          break;
        }
        case 'start':
          for (let i = 0; i < d.count; i++) {
            this.countHealing(d, +1);
            const cause = this.lost.get(`${d.stack}/${d.service}`)?.shift() ?? 'missing';
            inTurn(
              d.stack,
              () => this.heal({ ...d, cause }, records),
              () => this.countHealing(d, -1),
            );
          }
          break;
        case 'replace': {
          const record = byId.get(d.instance);
          if (record === undefined || this.replacing.has(record.id)) break;
          this.replacing.add(record.id);
          this.countHealing(d, +1);
          inTurn(
            d.stack,
            () => this.replace(record, d.reason, records),
            () => {
              this.replacing.delete(record.id);
              this.countHealing(d, -1);
            },
          );
          break;
        }
        case 'retire': {
          const record = byId.get(d.instance);
          if (record === undefined || this.replacing.has(record.id)) break;
          this.replacing.add(record.id);
          inTurn(
            d.stack,
            () => this.retire(record, d.reason),
            () => this.replacing.delete(record.id),
          );
          break;
        }
        case 'stop-orphan':
          this.track(this.stopOrphan(d.instance));
          break;
        case 'crash-loop':
          this.track(this.crashLoop(d, declared));
          break;
        case 'wait': {
          const timer = setTimeout(() => this.poke(), Math.max(0, d.until - Date.now()) + 5);
          timer.unref();
          break;
        }
      }
    }
    for (const [stack, jobs] of groups) {
      this.track(
        this.parts.exclusive(stack, async () => {
          // An apply, rollback or destroy ran in between: decide again from fresh facts.
          if (this.parts.generation() !== generation) {
            for (const job of jobs) job.undo();
            this.poke();
            return;
          }
          await Promise.all(jobs.map((job) => this.report(job.run())));
        }),
      );
    }
  }

  /** A lost instance of a service's current revision is healed next; its reason goes with the heal. */
  private noteLost(record: InstanceRecord, declared: readonly Declared[]): void {
    const current = declared.find((d) => d.stack === record.stack && d.service === record.service);
    if (current?.revision !== record.revision) return;
    const key = `${record.stack}/${record.service}`;
    const reasons = this.lost.get(key) ?? [];
    reasons.push(this.observed.get(record.id)?.instance.state === 'exited' ? 'exited' : 'missing');
    // Only as many as the heals that can follow.
    this.lost.set(key, reasons.slice(-(current.replicas + current.maxSurge)));
  }

  private countHealing(d: { stack: string; service: string }, by: number): void {
    const key = `${d.stack}/${d.service}`;
    this.healing.set(key, Math.max(0, (this.healing.get(key) ?? 0) + by));
  }

  private report(task: Promise<unknown>): Promise<unknown> {
    return task.catch((error: unknown) => {
      if (!this.stop.signal.aborted)
        this.parts.record({ type: 'reconcile.failed', message: (error as Error).message });
    });
  }

  private track(task: Promise<unknown>): void {
    const tracked = this.report(task);
    this.tasks.add(tracked);
    void tracked.finally(() => this.tasks.delete(tracked));
  }

  /** An instance that is gone leaves every book; its failure counts towards the service's backoff. */
  private async forget(record: InstanceRecord, reason: string): Promise<void> {
    try {
      const seen = this.observed.get(record.id);
      const exit = seen?.instance.exit;
      const how = exit === undefined ? '' : ` (${describeExit(exit)})`;
      this.noteFailure(record, exit !== undefined && !killedFromOutside(exit));
      this.parts.health.delete(record.id);
      // Stopped through its runtime even when the list did not show it: never leave a process behind a forgotten record.
      const runtime = seen?.runtime ?? (await this.parts.deploy.runtime(record.runtime));
      await forgetInstance(this.parts.deploy, record, runtime);
      this.gone.add(record.id);
      this.observed.delete(record.id);
      this.drifted.delete(record.id);
      this.parts.record({
        type: 'instance.exited',
        stack: record.stack,
        resource: record.service,
        message: `instance ${record.id} ${reason}${how}`,
        data: { instance: record.id, revision: record.revision },
      });
    } finally {
      this.replacing.delete(record.id);
      this.poke();
    }
  }

  /** A fresh instance of the service's current revision, registered once healthy (counted in `healing` by the caller). */
  private async heal(
    d: { stack: string; service: string; revision: string; reason: string; cause: HealReason },
    records: readonly InstanceRecord[],
  ): Promise<InstanceRecord> {
    try {
      const target = await this.target(d.stack, d.service, d.revision);
      const ctx = this.parts.deploy;
      const sibling = records.find(
        (r) =>
          r.stack === d.stack &&
          r.service === d.service &&
          r.revision === d.revision &&
          r.state === 'running',
      );
      const started = Date.now();
      let record: InstanceRecord;
      try {
        record = await startInstance(ctx, target, sibling?.color);
      } catch (error) {
        this.noteFailure(d, true);
        throw error;
      }
      const { ready, reason } = await waitReady(ctx, target, record);
      if (!ready) {
        this.noteFailure(d, true);
        await stopInstance(ctx, record, target.props.stop_grace);
        throw new DeployError(
          `replacement ${record.id} of ${d.service} was not healthy: ${reason}`,
        );
      }
      this.parts.health.set(record.id, 'healthy');
      const weight = await this.siblingWeight(d.stack, d.service, d.revision);
      await ctx.registry.register(endpointOf(record, weight));
      const ms = Date.now() - started;
      this.parts.record({
        type: 'instance.healed',
        stack: d.stack,
        resource: d.service,
        message: `started ${record.id} in ${ms} ms: ${d.reason}`,
        data: { instance: record.id, revision: d.revision, ms, reason: d.cause },
      });
      return record;
    } finally {
      this.countHealing(d, -1);
      this.poke();
    }
  }

  /** The weight the revision's other endpoints carry (canary steps split it), 1 when none. */
  private async siblingWeight(stack: string, service: string, revision: string): Promise<number> {
    const snapshot = await this.parts.deploy.registry.snapshot();
    const sibling = snapshot.endpoints.find(
      (e) => e.stack === stack && e.service === service && e.revision === revision && !e.draining,
    );
    return sibling?.weight ?? 1;
  }

  /** Start first, then drain and stop the one it replaces. */
  private async replace(
    record: InstanceRecord,
    reason: 'unhealthy' | 'drift',
    records: readonly InstanceRecord[],
  ): Promise<void> {
    try {
      const finding = this.drifted.get(record.id);
      const why =
        reason === 'drift'
          ? `${record.id} drifted (${finding?.changes.map(describeChange).join('; ') ?? 'changed'})`
          : `${record.id} is unhealthy`;
      const fresh = await this.heal({ ...record, reason: why, cause: reason }, records);
      const target = await this.target(record.stack, record.service, record.revision);
      await drainAndStop(this.parts.deploy, record, [record], target.props.stop_grace);
      this.parts.health.delete(record.id);
      this.drifted.delete(record.id);
      this.parts.record({
        type: 'instance.replaced',
        stack: record.stack,
        resource: record.service,
        message: `replaced ${record.id} by ${fresh.id}: ${why}`,
        data: { instance: record.id, by: fresh.id, reason },
      });
    } finally {
      this.replacing.delete(record.id);
    }
  }

  private async retire(record: InstanceRecord, reason: string): Promise<void> {
    try {
      await drainAndStop(this.parts.deploy, record, [record], 10_000);
      this.parts.health.delete(record.id);
      this.parts.record({
        type: 'instance.stopped',
        stack: record.stack,
        resource: record.service,
        message: `stopped ${record.id}: ${reason}`,
        data: { instance: record.id },
      });
    } finally {
      this.replacing.delete(record.id);
      this.poke();
    }
  }

  private async stopOrphan(id: string): Promise<void> {
    const seen = this.observed.get(id);
    const orphan = this.orphans.get(id);
    if (seen === undefined || orphan === undefined) return;
    this.orphans.delete(id);
    // A record may have appeared since the pass: then it is not an orphan.
    if (
      this.parts.ownedElsewhere(seen.instance.labels) ||
      (await this.parts.instances.list(orphan.stack, orphan.service)).some((r) => r.id === id)
    )
      return;
    await seen.runtime.stop(seen.instance.handle, { graceMs: 10_000 });
    this.observed.delete(id);
    this.parts.record({
      type: 'instance.orphan',
      stack: orphan.stack,
      resource: orphan.service,
      message: `stopped ${id}: it carries Drover's markers but no record owns it (${seen.runtime.kind}${seen.instance.handle.pid === undefined ? '' : `, pid ${seen.instance.handle.pid}`}${seen.instance.handle.container === undefined ? '' : `, container ${seen.instance.handle.container.slice(0, 12)}`})`,
      data: { instance: id, runtime: seen.runtime.kind },
    });
  }

  private async crashLoop(
    d: Extract<Decision, { kind: 'crash-loop' }>,
    declared: readonly Declared[],
  ): Promise<void> {
    const key = `${d.stack}/${d.service}/${d.revision}`;
    if (this.failed.has(key)) return;
    this.failed.add(key);
    await this.parts.store.put(
      `/reconcile/failed/${key}`,
      JSON.stringify({ at: new Date().toISOString(), failures: d.failures }),
    );
    this.parts.record({
      type: 'revision.failed',
      stack: d.stack,
      resource: d.service,
      message: `revision ${d.revision.slice(0, 12)} of ${d.service} failed ${d.failures} times within ${Math.round(this.settings.failureWindowMs / 1000)} s: crash loop${d.rollbackTo === undefined ? '; no earlier revision to roll back to, healing continues with backoff' : `; rolling back to ${d.rollbackTo.slice(0, 12)}`}`,
      data: { revision: d.revision, failures: d.failures },
    });
    if (d.rollbackTo !== undefined && declared.some((x) => x.stack === d.stack)) {
      await this.parts.rollback(d.stack, d.service, d.rollbackTo);
      this.poke(true);
    }
  }

  /**
   * Looks at every running instance now: its fingerprint against the one
   * taken when it started, and the files config templates rendered.
   * Findings are remembered (for `drift: replace` and the API) and new ones
   * become events.
   */
  async scanDrift(filter: { stack?: string } = {}): Promise<DriftReport> {
    const records = (await this.parts.instances.list(filter.stack)).filter(
      (r) => r.state === 'running' && r.handle !== undefined,
    );
    const found: DriftFinding[] = [];
    let scanned = 0;
    const unreadable: string[] = [];
    const runtimes = new Map<RuntimeKind, Runtime>();
    for (const runtime of await this.parts.openRuntimes()) runtimes.set(runtime.kind, runtime);
    const at = new Date().toISOString();
    await Promise.all(
      records.map(async (r) => {
        const runtime = runtimes.get(r.runtime);
        if (runtime === undefined) return;
        const expected = await this.fingerprints.get(r);
        let actual;
        try {
          actual = await runtime.inspect(r.handle as InstanceHandle);
        } catch (error) {
          // It stopped meanwhile (the loop heals it), or it could not be looked at: not scanned.
          if ((error as { code?: string }).code !== 'RUNTIME_INSTANCE_NOT_FOUND')
            unreadable.push(`${r.id}: ${(error as Error).message}`);
          return;
        }
        scanned++;
        if (expected === undefined) {
          // Adopted from a daemon that took no fingerprint: from now on this one counts.
          await this.fingerprints.put(r, actual);
          return;
        }
        const changes = diffFingerprint(expected, actual);
        if (changes.length === 0) return;
        found.push({
          stack: r.stack,
          service: r.service,
          instance: r.id,
          revision: r.revision,
          runtime: r.runtime,
          changes,
          detectedAt: this.drifted.get(r.id)?.detectedAt ?? at,
        });
      }),
    );
    found.sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0));
    const now = new Set(found.map((f) => f.instance));
    for (const f of found) {
      const before = this.drifted.get(f.instance);
      this.drifted.set(f.instance, f);
      if (before === undefined || JSON.stringify(before.changes) !== JSON.stringify(f.changes))
        this.parts.record({
          type: 'drift.detected',
          stack: f.stack,
          resource: f.service,
          message: `instance ${f.instance} drifted from revision ${f.revision.slice(0, 12)}: ${f.changes.map(describeChange).join('; ')}`,
          data: { instance: f.instance, changes: f.changes.map(describeChange) },
        });
    }
    for (const [id, f] of this.drifted)
      if (!now.has(id) && (filter.stack === undefined || f.stack === filter.stack))
        this.drifted.delete(id);
    const rendered = (await this.parts.renderedDrift()).filter(
      (r) => filter.stack === undefined || r.stack === filter.stack,
    );
    for (const r of rendered) {
      const key = `${r.stack}/${r.resource}:${r.kind}`;
      if (this.renderedSeen.has(key)) continue;
      this.renderedSeen.add(key);
      this.parts.record({
        type: 'drift.detected',
        stack: r.stack,
        resource: r.resource,
        message: `${r.path}, rendered by ${r.resource}, was ${r.kind} outside Drover`,
        data: { path: r.path, kind: r.kind },
      });
    }
    if (filter.stack === undefined) {
      const current = new Set(rendered.map((r) => `${r.stack}/${r.resource}:${r.kind}`));
      for (const key of this.renderedSeen) if (!current.has(key)) this.renderedSeen.delete(key);
    }
    if (found.length > 0) this.poke();
    if (unreadable.length > 0)
      this.parts.record({
        type: 'reconcile.failed',
        message: `drift scan could not inspect ${unreadable.length} instance(s): ${unreadable.slice(0, 3).join('; ')}`,
      });
    return { instances: found, rendered, scannedAt: at, scanned };
  }

  /** The instances the latest drift scans found drifted. */
  driftFindings(): DriftFinding[] {
    return [...this.drifted.values()];
  }

  /** Stops the loop and waits for the actions under way. */
  async close(): Promise<void> {
    this.stop.abort();
    this.wake?.();
    if (this.timer) clearInterval(this.timer);
    if (this.driftTimer) clearInterval(this.driftTimer);
    for (const stop of this.monitors.values()) stop.abort();
    this.monitors.clear();
    await this.running;
    await Promise.allSettled([...this.tasks]);
  }
}

/** Stopped by a signal someone sent (not the OOM killer): not the revision's own failure. */
function killedFromOutside(exit: ExitStatus): boolean {
  if (exit.oomKilled === true) return false;
  return exit.signal === 'SIGKILL' || exit.signal === 'SIGTERM';
}

function definedOnly(options: ReconcilerOptions): Partial<ReconcileSettings> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof ReconcileSettings)[]) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out as Partial<ReconcileSettings>;
}
