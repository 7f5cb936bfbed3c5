import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { SeriesSnapshot } from '../proxy/index.js';

import { proxyExposition } from './proxy-families.js';

/**
 * An engine event as the metrics read it: the engine's `EngineEvent` fits.
 * Declared here so that observe/ depends on no layer it observes.
 */
export interface ObservedEvent {
  readonly type: string;
  readonly stack?: string;
  readonly resource?: string;
  readonly phase?: string;
  readonly who?: string;
  readonly data?: { readonly [key: string]: unknown };
}

/** A runtime's start or exit (the runtime's `RuntimeEvent` fits). */
export interface ObservedRuntimeEvent {
  readonly type: 'start' | 'exit';
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly oomKilled?: boolean;
}

/** One instance as the engine lists it, for the `drover_instances` gauge. */
export interface InstanceSample {
  readonly stack: string;
  readonly service: string;
  readonly runtime: string;
  readonly state: string;
}

/** What is read on every scrape rather than counted as it happens. */
export interface MetricsSources {
  /** Every instance the engine records. */
  instances?(): Promise<readonly InstanceSample[]>;
  /** Instances the latest drift scan found drifted. */
  driftFindings?(): readonly { readonly stack: string; readonly service: string }[];
  /** The proxy's own series (its counters live on its hot path). */
  proxy?(): readonly SeriesSnapshot[];
}

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics, prefixed `drover_` (default true). */
  readonly processMetrics?: boolean;
}

let processRegistry: Registry | undefined;

/**
 * The process's own figures (CPU, memory, event loop lag, GC), collected once
 * per process: they are the process's, not a daemon's, and every collection
 * starts an event-loop monitor and a GC observer that are never stopped, so a
 * test process that starts many daemons would pile them up.
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'drover_' });
    // Gauges named like counters (promtool's lint refuses them); the same figures, by type, stay.
    for (const kind of ['handles', 'requests', 'resources'])
      processRegistry.removeSingleMetric(`drover_nodejs_active_${kind}_total`);
  }
  return processRegistry;
}

/** Who a rollback is recorded as when the reconciler undoes a crash-looping revision. */
const RECONCILE_WHO = 'drover (reconcile)';

/** Heal causes, as `instance.healed` events carry them in `data.reason`. */
const HEAL_REASONS = new Set(['exited', 'unhealthy', 'drift', 'missing']);

/** Seconds; a deploy waits for health checks and drains, so minutes are normal. */
const DEPLOY_BUCKETS = [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800];
/** Seconds from the start of a replacement to it serving. */
const HEAL_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
const PASS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The daemon's metrics, on a registry of its own (never prom-client's global
 * one, so several daemons in one process do not collide). Engine and
 * reconcile figures are counted from the engine's events as they are
 * recorded; instances, drift findings and the proxy's series are read when
 * Prometheus scrapes.
 */
export class DroverMetrics {
  readonly registry = new Registry();
  private readonly withProcess: boolean;
  private readonly events: Counter<'type'>;
  private readonly applies: Counter<'stack' | 'result'>;
  private readonly deploys: Counter<'stack' | 'service' | 'strategy' | 'result'>;
  private readonly deployDuration: Histogram<'strategy'>;
  private readonly rollbacks: Counter<'stack' | 'kind'>;
  private readonly heals: Counter<'stack' | 'service' | 'reason'>;
  private readonly healDuration: Histogram;
  private readonly orphans: Counter;
  private readonly crashLoops: Counter<'stack' | 'service'>;
  private readonly reconcileFailures: Counter;
  private readonly passes: Counter;
  private readonly passDuration: Histogram;
  private readonly starts: Counter<'runtime'>;
  private readonly exits: Counter<'runtime' | 'reason'>;

  constructor(
    private readonly sources: MetricsSources = {},
    options: MetricsOptions = {},
  ) {
    const registers = [this.registry];
    this.events = new Counter({
      name: 'drover_events_total',
      help: 'Events recorded in the event log, by type.',
      labelNames: ['type'],
      registers,
    });
    this.applies = new Counter({
      name: 'drover_applies_total',
      help: 'Applies of a stack (destroys included) by result: converged, unchanged or failed.',
      labelNames: ['stack', 'result'],
      registers,
    });
    this.deploys = new Counter({
      name: 'drover_deploys_total',
      help: 'Deployments (a service moving to another revision with its strategy) by result.',
      labelNames: ['stack', 'service', 'strategy', 'result'],
      registers,
    });
    this.deployDuration = new Histogram({
      name: 'drover_deploy_duration_seconds',
      help: 'Time a successful deployment took, from its start to the old instances stopped or kept.',
      labelNames: ['strategy'],
      buckets: DEPLOY_BUCKETS,
      registers,
    });
    this.rollbacks = new Counter({
      name: 'drover_rollbacks_total',
      help: 'Rollbacks by kind: service, stack, automatic (a crash loop) or canary (failed analysis).',
      labelNames: ['stack', 'kind'],
      registers,
    });
    this.heals = new Counter({
      name: 'drover_heals_total',
      help: 'Replacement instances the reconciler started and saw healthy, by why: exited, unhealthy, drift or missing.',
      labelNames: ['stack', 'service', 'reason'],
      registers,
    });
    this.healDuration = new Histogram({
      name: 'drover_heal_duration_seconds',
      help: 'Time from the start of a heal to its replacement instance serving.',
      buckets: HEAL_BUCKETS,
      registers,
    });
    this.orphans = new Counter({
      name: 'drover_orphans_stopped_total',
      help: "Instances carrying Drover's markers that no record owned, stopped by the reconciler.",
      registers,
    });
    this.crashLoops = new Counter({
      name: 'drover_crash_loops_total',
      help: 'Revisions marked failed for crashing too often.',
      labelNames: ['stack', 'service'],
      registers,
    });
    this.reconcileFailures = new Counter({
      name: 'drover_reconcile_failures_total',
      help: 'Reconcile passes or actions that failed (see the reconcile.failed events).',
      registers,
    });
    this.passes = new Counter({
      name: 'drover_reconcile_passes_total',
      help: 'Passes of the reconcile loop.',
      registers,
    });
    this.passDuration = new Histogram({
      name: 'drover_reconcile_pass_duration_seconds',
      help: 'Time one reconcile pass took to gather the facts and decide (actions run after it).',
      buckets: PASS_BUCKETS,
      registers,
    });
    this.starts = new Counter({
      name: 'drover_instance_starts_total',
      help: 'Instances started by a runtime (services and job attempts).',
      labelNames: ['runtime'],
      registers,
    });
    this.exits = new Counter({
      name: 'drover_instance_exits_total',
      help: 'Instance exits seen by a runtime, by how: completed (code 0), failed (other code), killed (signal), oom or unknown.',
      labelNames: ['runtime', 'reason'],
      registers,
    });
    const instances = this.sources.instances?.bind(this.sources);
    // Read on every scrape: the gauges register themselves.
    new Gauge({
      name: 'drover_instances',
      help: 'Instances the engine records, by state.',
      labelNames: ['stack', 'service', 'runtime', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const i of (await instances?.()) ?? [])
          this.inc({ stack: i.stack, service: i.service, runtime: i.runtime, state: i.state });
      },
    });
    const drift = this.sources.driftFindings?.bind(this.sources);
    new Gauge({
      name: 'drover_drift_findings',
      help: 'Instances found drifted by the latest drift scan.',
      labelNames: ['stack', 'service'],
      registers,
      collect() {
        this.reset();
        for (const f of drift?.() ?? []) this.inc({ stack: f.stack, service: f.service });
      },
    });
    this.withProcess = options.processMetrics ?? true;
  }

  /** Counts what an engine event tells. */
  event(event: ObservedEvent): void {
    this.events.inc({ type: event.type });
    const stack = event.stack ?? '';
    const data = event.data ?? {};
    switch (event.type) {
      case 'apply.converged':
      case 'apply.failed': {
        // Rollbacks run as applies too; they are counted as rollbacks.
        if (data['kind'] === 'rollback') break;
        const result =
          event.type === 'apply.failed'
            ? 'failed'
            : data['stackRevision'] === undefined
              ? 'unchanged'
              : 'converged';
        this.applies.inc({ stack, result });
        break;
      }
      case 'deploy.succeeded':
      case 'deploy.failed': {
        const strategy = text(data['strategy'], 'unknown');
        this.deploys.inc({
          stack,
          service: event.resource ?? '',
          strategy,
          result: event.type === 'deploy.succeeded' ? 'succeeded' : 'failed',
        });
        const ms = data['ms'];
        if (event.type === 'deploy.succeeded' && typeof ms === 'number')
          this.deployDuration.observe({ strategy }, ms / 1000);
        break;
      }
      case 'rollback': {
        const kind =
          event.who === RECONCILE_WHO
            ? 'automatic'
            : event.resource === undefined
              ? 'stack'
              : 'service';
        this.rollbacks.inc({ stack, kind });
        break;
      }
      case 'progress':
        if (event.phase === 'rolling-back') this.rollbacks.inc({ stack, kind: 'canary' });
        break;
      case 'instance.healed': {
        const reason = text(data['reason'], 'missing');
        this.heals.inc({
          stack,
          service: event.resource ?? '',
          reason: HEAL_REASONS.has(reason) ? reason : 'missing',
        });
        const ms = data['ms'];
        if (typeof ms === 'number') this.healDuration.observe(ms / 1000);
        break;
      }
      case 'instance.orphan':
        this.orphans.inc();
        break;
      case 'revision.failed':
        this.crashLoops.inc({ stack, service: event.resource ?? '' });
        break;
      case 'reconcile.failed':
        this.reconcileFailures.inc();
        break;
    }
  }

  /** Counts a runtime's starts and exits. */
  runtimeEvent(runtime: string, event: ObservedRuntimeEvent): void {
    if (event.type === 'start') this.starts.inc({ runtime });
    else this.exits.inc({ runtime, reason: exitReason(event) });
  }

  /** One pass of the reconcile loop took `seconds`. */
  reconcilePass(seconds: number): void {
    this.passes.inc();
    this.passDuration.observe(seconds);
  }

  /** `Content-Type` of `render()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition (0.0.4) of everything, the proxy's series included. */
  async render(): Promise<string> {
    // merge() refuses a name registered twice: the one exposition has each family once.
    const registry = this.withProcess
      ? Registry.merge([this.registry, processMetrics()])
      : this.registry;
    return (await registry.metrics()) + proxyExposition(this.sources.proxy?.() ?? []);
  }
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

function exitReason(event: ObservedRuntimeEvent): string {
  if (event.oomKilled === true) return 'oom';
  if (typeof event.exitCode === 'number') return event.exitCode === 0 ? 'completed' : 'failed';
  if (typeof event.signal === 'string' && event.signal !== '') return 'killed';
  return 'unknown';
}
