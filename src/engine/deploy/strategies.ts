import { setTimeout as sleep } from 'node:timers/promises';

import type { InstanceRecord } from '../state.js';

import {
  DeployError,
  drainAndStop,
  endpointKeyOf,
  endpointOf,
  startHealthy,
  stopInstance,
  waitReady,
} from './instances.js';
import type { DeployContext, ServiceTarget } from './types.js';

interface Current {
  /** Instances of the target revision. */
  readonly target: InstanceRecord[];
  /** Instances of any other revision. */
  readonly others: InstanceRecord[];
  /** Instance ids with an endpoint in the registry, and whether it takes traffic. */
  readonly serving: Map<string, { weight: number; draining: boolean }>;
}

async function observe(ctx: DeployContext, target: ServiceTarget): Promise<Current> {
  const records = (await ctx.instances.list(target.stack, target.service)).filter(
    (r) => r.state === 'running',
  );
  const endpoints = await ctx.registry.endpoints(target.stack, target.service);
  return {
    target: records.filter((r) => r.revision === target.revision),
    others: records.filter((r) => r.revision !== target.revision),
    serving: new Map(
      endpoints.map((e) => [e.instance, { weight: e.weight, draining: e.draining === true }]),
    ),
  };
}

const grace = (target: ServiceTarget): number => target.props.stop_grace;

/**
 * Instances of the target revision that are running but not in the registry
 * (a daemon died between starting and registering them): kept if healthy,
 * stopped if not.
 */
async function settleUnregistered(
  ctx: DeployContext,
  target: ServiceTarget,
  current: Current,
): Promise<InstanceRecord[]> {
  const kept: InstanceRecord[] = [];
  for (const r of current.target) {
    if (current.serving.has(r.id)) {
      kept.push(r);
      continue;
    }
    const { ready } = await waitReady(ctx, target, r);
    if (ready) kept.push(r);
    else await stopInstance(ctx, r, grace(target));
  }
  return kept;
}

/**
 * Brings a service to its target: creates or scales it when only one revision
 * is involved, else replaces its instances with the deployment strategy. Every
 * step reads what runs now, so a deployment interrupted by a crash resumes
 * where it stopped.
 */
export async function deployService(ctx: DeployContext, target: ServiceTarget): Promise<void> {
  const current = await observe(ctx, target);
  const replicas = target.props.replicas;
  const active = current.others.filter((r) => isServing(current, r));
  if (active.length === 0) {
    // Nothing of another revision serves: create, scale, or finish a blue-green keep.
    await scale(ctx, target, replicas);
    if (current.others.length > 0) await drainAndStop(ctx, target, current.others, grace(target));
    return;
  }
  const from = active[0]?.revision;
  await ctx.deployments.put({
    stack: target.stack,
    service: target.service,
    strategy: target.props.deploy.strategy,
    ...(from === undefined ? {} : { from }),
    to: target.revision,
    phase: 'started',
    startedAt: new Date().toISOString(),
    who: target.who,
  });
  const startedAt = Date.now();
  ctx.progress({
    type: 'deploy.started',
    stack: target.stack,
    resource: target.service,
    message: `${target.props.deploy.strategy} deployment of ${target.service} to ${target.revision.slice(0, 12)}`,
    data: {
      strategy: target.props.deploy.strategy,
      to: target.revision,
      ...(from ? { from } : {}),
    },
  });
  try {
    const deploy = target.props.deploy;
    if (deploy.strategy === 'blue-green')
      await blueGreen(ctx, target, current, deploy.keep_previous);
    else if (deploy.strategy === 'canary') await canary(ctx, target, current, deploy);
    else await rolling(ctx, target, deploy.max_surge, deploy.max_unavailable);
  } catch (error) {
    await ctx.deployments.remove(target.stack, target.service);
    ctx.progress({
      type: 'deploy.failed',
      stack: target.stack,
      resource: target.service,
      phase: 'failed',
      message: (error as Error).message,
      data: {
        strategy: target.props.deploy.strategy,
        to: target.revision,
        ms: Date.now() - startedAt,
      },
    });
    throw error;
  }
  ctx.progress({
    type: 'deploy.succeeded',
    stack: target.stack,
    resource: target.service,
    phase: 'done',
    message: `${target.service} runs ${target.revision.slice(0, 12)}`,
    data: {
      strategy: target.props.deploy.strategy,
      to: target.revision,
      ms: Date.now() - startedAt,
    },
  });
}

function isServing(current: Current, r: InstanceRecord): boolean {
  const e = current.serving.get(r.id);
  return e !== undefined && !e.draining && e.weight > 0;
}

/** Exactly `replicas` healthy, registered instances of the target revision. */
export async function scale(
  ctx: DeployContext,
  target: ServiceTarget,
  replicas: number,
): Promise<void> {
  const current = await observe(ctx, target);
  const ready = await settleUnregistered(ctx, target, current);
  const registered = ready.filter((r) => current.serving.has(r.id));
  const waiting = ready.filter((r) => !current.serving.has(r.id));
  if (ready.length < replicas) {
    const fresh = await startHealthy(ctx, target, replicas - ready.length);
    waiting.push(...fresh);
  }
  const keep = [...registered, ...waiting].slice(0, replicas);
  const extra = [...registered, ...waiting].slice(replicas);
  const toRegister = keep.filter((r) => !current.serving.has(r.id) || !isServing(current, r));
  if (toRegister.length > 0) {
    ctx.progress({
      type: 'progress',
      stack: target.stack,
      resource: target.service,
      phase: 'registering',
      message: `serving ${toRegister.map((r) => r.id).join(', ')}`,
    });
    const revision = await ctx.registry.batch({ put: toRegister.map((r) => endpointOf(r, 1)) });
    await ctx.traffic.applied(revision, 5000);
  }
  await drainAndStop(ctx, target, extra, grace(target));
}

/**
 * Rolling: never more than replicas + max_surge instances, never fewer than
 * replicas − max_unavailable serving; new ones serve only once healthy.
 */
async function rolling(
  ctx: DeployContext,
  target: ServiceTarget,
  surge: number,
  unavailable: number,
): Promise<void> {
  const n = target.props.replicas;
  for (let round = 0; round < 10_000; round++) {
    const current = await observe(ctx, target);
    const fresh = await settleUnregistered(ctx, target, current);
    const old = current.others;
    if (old.length === 0 && fresh.length >= n) break;
    // Serving new instances that are healthy but not registered yet.
    const unregistered = fresh.filter((r) => !current.serving.has(r.id));
    if (unregistered.length > 0) {
      const revision = await ctx.registry.batch({ put: unregistered.map((r) => endpointOf(r, 1)) });
      await ctx.traffic.applied(revision, 5000);
    }
    const removable = Math.min(old.length, old.length + fresh.length - (n - unavailable));
    if (removable > 0) {
      await ctx.deployments.put({
        stack: target.stack,
        service: target.service,
        strategy: 'rolling',
        to: target.revision,
        phase: `replacing (${fresh.length}/${n})`,
        startedAt: new Date().toISOString(),
        who: target.who,
      });
      await drainAndStop(ctx, target, old.slice(0, removable), grace(target));
      continue;
    }
    const room = Math.min(n - fresh.length, n + surge - (old.length + fresh.length));
    if (room <= 0)
      throw new DeployError(
        `${target.service}: max_surge ${surge} and max_unavailable ${unavailable} leave no room to move`,
      );
    // A batch that is not healthy is stopped by startHealthy; everything serving keeps serving.
    const started = await startHealthy(ctx, target, room);
    ctx.progress({
      type: 'progress',
      stack: target.stack,
      resource: target.service,
      phase: 'registering',
      message: `serving ${started.map((r) => r.id).join(', ')}`,
    });
    const revision = await ctx.registry.batch({ put: started.map((r) => endpointOf(r, 1)) });
    await ctx.traffic.applied(revision, 5000);
  }
  await ctx.deployments.remove(target.stack, target.service);
}

/**
 * Blue-green: the whole new (green) set healthy, then all traffic switched in
 * one registry transaction; the previous (blue) set is kept, not serving, for
 * `keep` ms so that a rollback is a switch back, then drained and stopped.
 */
async function blueGreen(
  ctx: DeployContext,
  target: ServiceTarget,
  start: Current,
  keep: number,
): Promise<void> {
  const n = target.props.replicas;
  const current = await observe(ctx, target);
  const green = await settleUnregistered(ctx, target, current);
  if (green.length < n) {
    ctx.progress({
      type: 'progress',
      stack: target.stack,
      resource: target.service,
      phase: 'starting',
      message: `starting the green set (${n - green.length} instance(s))`,
    });
    green.push(...(await startHealthy(ctx, target, n - green.length, 'green')));
  }
  const blue = start.others;
  ctx.progress({
    type: 'progress',
    stack: target.stack,
    resource: target.service,
    phase: 'switching',
    message: `switching traffic to ${target.revision.slice(0, 12)}`,
  });
  const revision = await ctx.registry.batch({
    put: green.slice(0, n).map((r) => endpointOf(r, 1)),
    update: blue.map((r) => ({ key: endpointKeyOf(r), change: { weight: 0 } })),
  });
  await ctx.traffic.applied(revision, 5000);
  ctx.failpoint('after-switch');
  if (green.length > n) await drainAndStop(ctx, target, green.slice(n), grace(target));
  if (keep > 0 && blue.length > 0) {
    await ctx.deployments.put({
      stack: target.stack,
      service: target.service,
      strategy: 'blue-green',
      from: blue[0]?.revision as string,
      to: target.revision,
      phase: 'keeping',
      startedAt: new Date().toISOString(),
      who: target.who,
      keepUntil: new Date(Date.now() + keep).toISOString(),
    });
    return;
  }
  await drainAndStop(ctx, target, blue, grace(target));
  await ctx.deployments.remove(target.stack, target.service);
}

/**
 * Canary: the new revision's instances start next to the old ones, then take
 * a growing share of the traffic step by step; after each pause the proxy's
 * own figures for the new revision (5xx share, p99) decide whether to go on.
 * A failed step puts all traffic back on the old revision and stops the new.
 */
async function canary(
  ctx: DeployContext,
  target: ServiceTarget,
  start: Current,
  deploy: Extract<ServiceTarget['props']['deploy'], { strategy: 'canary' }>,
): Promise<void> {
  const n = target.props.replicas;
  const current = await observe(ctx, target);
  const fresh = await settleUnregistered(ctx, target, current);
  if (fresh.length < n)
    fresh.push(...(await startHealthy(ctx, target, n - fresh.length, 'canary')));
  const old = start.others;
  const steps =
    deploy.steps.at(-1)?.weight === 100
      ? deploy.steps
      : [...deploy.steps, { weight: 100, pause: 0 }];
  const setShare = async (share: number): Promise<void> => {
    const revision = await ctx.registry.batch({
      put: fresh.map((r) => endpointOf(r, share / fresh.length)),
      update: old.map((r) => ({
        key: endpointKeyOf(r),
        change: { weight: (100 - share) / Math.max(1, old.length) },
      })),
    });
    await ctx.traffic.applied(revision, 5000);
  };
  for (const [i, step] of steps.entries()) {
    ctx.progress({
      type: 'progress',
      stack: target.stack,
      resource: target.service,
      phase: 'step',
      message: `step ${i + 1}/${steps.length}: ${step.weight}% of traffic to ${target.revision.slice(0, 12)}`,
      data: { weight: step.weight, step: i + 1 },
    });
    await ctx.deployments.put({
      stack: target.stack,
      service: target.service,
      strategy: 'canary',
      ...(old[0] ? { from: old[0].revision } : {}),
      to: target.revision,
      phase: `step ${i + 1}: ${step.weight}%`,
      startedAt: new Date().toISOString(),
      who: target.who,
    });
    await setShare(step.weight);
    if (step.pause > 0) await sleep(step.pause);
    const problem = judge(ctx, target, deploy.analysis, Math.max(1, Math.ceil(step.pause / 1000)));
    if (problem !== undefined && step.weight < 100) {
      ctx.progress({
        type: 'progress',
        stack: target.stack,
        resource: target.service,
        phase: 'rolling-back',
        message: `canary analysis failed: ${problem}`,
      });
      await setShare(0);
      await drainAndStop(ctx, target, fresh, grace(target));
      await ctx.registry.batch({
        update: old.map((r) => ({ key: endpointKeyOf(r), change: { weight: 1 } })),
      });
      throw new DeployError(
        `${target.service}: canary analysis failed at ${step.weight}%: ${problem}; all traffic is back on the previous revision`,
      );
    }
  }
  const revision = await ctx.registry.batch({ put: fresh.map((r) => endpointOf(r, 1)) });
  await ctx.traffic.applied(revision, 5000);
  await drainAndStop(ctx, target, old, grace(target));
  await ctx.deployments.remove(target.stack, target.service);
}

/** What is wrong with the new revision's recent traffic, or undefined if it passes. */
function judge(
  ctx: DeployContext,
  target: ServiceTarget,
  analysis: { max_error_rate: number; max_p99_latency?: number; min_requests: number },
  seconds: number,
): string | undefined {
  const stats = ctx.traffic.recent(target.stack, target.service, target.revision, seconds);
  if (stats.requests < analysis.min_requests)
    return `only ${stats.requests} requests, ${analysis.min_requests} needed to judge`;
  if (stats.requests === 0) return undefined;
  if (stats.errorRate > analysis.max_error_rate) {
    return `5xx share ${(stats.errorRate * 100).toFixed(1)}% is above ${(analysis.max_error_rate * 100).toFixed(1)}%`;
  }
  if (analysis.max_p99_latency !== undefined && (stats.p99Ms ?? 0) > analysis.max_p99_latency) {
    return `p99 latency ${stats.p99Ms} ms is above ${analysis.max_p99_latency} ms`;
  }
  return undefined;
}

/** Stops a blue-green previous set once its keep time is over. */
export async function finishKeep(
  ctx: DeployContext,
  stack: string,
  service: string,
  keepRevision: string,
  stopGraceMs: number,
): Promise<void> {
  const records = (await ctx.instances.list(stack, service)).filter(
    (r) => r.revision !== keepRevision,
  );
  await drainAndStop(ctx, { stack, service }, records, stopGraceMs);
  await ctx.deployments.remove(stack, service);
}

export { stopInstance };
