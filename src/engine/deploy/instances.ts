import { randomBytes } from 'node:crypto';

import type { Endpoint, EndpointKey } from '../../registry/index.js';
import type { HealthCheckSpec, InstanceHandle, Runtime } from '../../runtime/index.js';
import { describeExit, HealthMonitor, probeFor } from '../../runtime/index.js';
import { EngineError } from '../errors.js';
import type { InstanceRecord } from '../state.js';

import type { DeployContext, ServiceTarget } from './types.js';

/** Why a deployment stopped; the message is for the person who asked for it. */
export class DeployError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEPLOY_FAILED', message, options);
  }
}

/** Instance ids: readable (service name) and unique (random), valid as container names. */
export function newInstanceId(service: string): string {
  return `${service.replace(/[^A-Za-z0-9_-]/g, '-')}-${randomBytes(5).toString('hex')}`;
}

export function endpointKeyOf(r: InstanceRecord): EndpointKey {
  return { stack: r.stack, service: r.service, instance: r.id };
}

export function endpointOf(r: InstanceRecord, weight: number): Endpoint {
  return {
    stack: r.stack,
    service: r.service,
    instance: r.id,
    address: '127.0.0.1',
    port: r.port,
    revision: r.revision,
    weight,
    healthy: true,
    ...(r.color === undefined ? {} : { color: r.color }),
  };
}

/** A health check for instances whose service declares none: PORT must accept connections. */
const DEFAULT_HEALTH: HealthCheckSpec = {
  tcp: true,
  interval: 100,
  timeout: 1000,
  healthy_threshold: 1,
  unhealthy_threshold: 1_000_000,
  start_period: 0,
};

/**
 * Starts one instance of a service revision. The record is written before
 * the runtime acts (`starting`) and after (`running`, with its handle): a
 * daemon killed in between finds the intent and settles it.
 */
export async function startInstance(
  ctx: DeployContext,
  target: ServiceTarget,
  color?: string,
): Promise<InstanceRecord> {
  const runtime = await ctx.runtime(target.props.runtime ?? 'process');
  const id = newInstanceId(target.service);
  const port = await ctx.ports.allocate(id);
  const starting: InstanceRecord = {
    id,
    stack: target.stack,
    service: target.service,
    revision: target.revision,
    runtime: runtime.kind,
    port,
    state: 'starting',
    createdAt: new Date().toISOString(),
    ...(color === undefined ? {} : { color }),
  };
  await ctx.instances.put(starting);
  ctx.progress({
    type: 'progress',
    stack: target.stack,
    resource: target.service,
    phase: 'starting',
    message: `starting instance ${id} on port ${port}`,
    data: { instance: id, port, revision: target.revision },
  });
  let handle: InstanceHandle;
  try {
    handle = await runtime.start({
      id,
      labels: {
        stack: target.stack,
        service: target.service,
        revision: target.revision,
        instance: id,
      },
      artifact: target.artifact,
      ...(target.props.command === undefined ? {} : { command: target.props.command }),
      env: target.props.env,
      port,
      limits: { memoryBytes: target.props.resources.memory, cpus: target.props.resources.cpu },
      mounts: await ctx.mounts(target, id),
    });
  } catch (error) {
    await ctx.instances.remove(starting);
    await ctx.ports.release(port, id);
    await ctx.unmount(id);
    throw new DeployError(
      `instance ${id} of ${target.service} did not start: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const running: InstanceRecord = { ...starting, state: 'running', handle };
  await ctx.instances.put(running);
  ctx.failpoint('after-start');
  return running;
}

/**
 * Waits until an instance passes its health check; false if it fails it,
 * exits, or takes longer than the start period plus the ready timeout.
 */
export async function waitReady(
  ctx: DeployContext,
  target: ServiceTarget,
  record: InstanceRecord,
): Promise<{ ready: boolean; reason?: string }> {
  const runtime = await ctx.runtime(record.runtime);
  const handle = record.handle as InstanceHandle;
  const spec = target.props.health ?? DEFAULT_HEALTH;
  const monitor = new HealthMonitor(record.id, probeFor(runtime, handle, spec), spec);
  const exits = new AbortController();
  let exited: string | undefined;
  const watchExit = (async () => {
    for await (const event of runtime.events(exits.signal)) {
      if (event.type === 'exit' && event.id === record.id) {
        exited = `it exited (${describeExit(event)})`;
        monitor.stop();
        return;
      }
    }
  })();
  // While an instance starts, a refused connection means "not listening yet", not "unhealthy":
  // only answers that fail (or exits) count against it, up to its unhealthy threshold.
  const deadline = Date.now() + spec.start_period + ctx.options.readyTimeoutMs;
  let failedAnswers = 0;
  let lastDetail: string | undefined;
  const timer = setTimeout(() => exits.abort(), Math.max(0, deadline - Date.now()));
  let ready = false;
  try {
    for await (const result of monitor.results(exits.signal)) {
      if (result.state === 'healthy') {
        ready = true;
        break;
      }
      if (result.ok) continue;
      lastDetail = result.detail;
      const answered = result.detail !== undefined && /^(HTTP \d|exit )/.test(result.detail);
      failedAnswers = answered ? failedAnswers + 1 : 0;
      if (failedAnswers >= spec.unhealthy_threshold) break;
    }
    clearTimeout(timer);
    if (ready) {
      // What it is now, healthy and fresh from its revision, is what drift is measured against.
      await ctx.ready(record);
      ctx.progress({
        type: 'progress',
        stack: target.stack,
        resource: target.service,
        phase: 'healthy',
        message: `instance ${record.id} is healthy`,
        data: { instance: record.id },
      });
      return { ready: true };
    }
    const reason =
      exited ??
      (failedAnswers >= spec.unhealthy_threshold
        ? `it failed its health check (${lastDetail})`
        : `it was not healthy within ${Math.round((spec.start_period + ctx.options.readyTimeoutMs) / 1000)} s${lastDetail ? ` (${lastDetail})` : ''}`);
    ctx.progress({
      type: 'progress',
      stack: target.stack,
      resource: target.service,
      phase: 'unhealthy',
      message: `instance ${record.id} is not healthy: ${reason}`,
      data: { instance: record.id },
    });
    return { ready: false, reason };
  } finally {
    monitor.stop();
    exits.abort();
    await Promise.allSettled([watchExit]);
  }
}

/**
 * Starts `count` instances at once and waits until all are healthy. If any
 * is not, all of them are stopped again and the deployment fails: nothing
 * half-started is left behind, and nothing old was touched.
 */
export async function startHealthy(
  ctx: DeployContext,
  target: ServiceTarget,
  count: number,
  color?: string,
): Promise<InstanceRecord[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startInstance(ctx, target, color)),
  );
  const records = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const startFailure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const checks = startFailure
    ? []
    : await Promise.all(records.map((r) => waitReady(ctx, target, r)));
  const failed = checks.find((c) => !c.ready);
  if (startFailure || failed) {
    await Promise.all(records.map((r) => stopInstance(ctx, r)));
    const reason = startFailure
      ? (startFailure.reason as Error).message
      : `a new instance ${failed?.reason ?? 'was not healthy'}`;
    throw new DeployError(
      `${target.service} revision ${target.revision.slice(0, 12)}: ${reason}; the previous instances keep serving`,
    );
  }
  return records;
}

/** Stops an instance: intent recorded first, then the runtime, then the record and its port go. */
export async function stopInstance(
  ctx: DeployContext,
  record: InstanceRecord,
  graceMs = 10_000,
): Promise<void> {
  await ctx.instances.put({ ...record, state: 'stopping' });
  if (record.handle !== undefined) {
    const runtime: Runtime = await ctx.runtime(record.runtime);
    await runtime.stop(record.handle, { graceMs });
  }
  await ctx.instances.remove(record);
  await ctx.ports.release(record.port, record.id);
  await ctx.unmount(record.id);
}

/**
 * Takes instances out of the data plane: marked draining (no new requests),
 * then, once the proxy has the change and they have no request left (or the
 * drain timeout passed), removed from the registry and stopped.
 */
export async function drainAndStop(
  ctx: DeployContext,
  target: { stack: string; service: string },
  records: readonly InstanceRecord[],
  graceMs: number,
): Promise<void> {
  if (records.length === 0) return;
  const keys = records.map(endpointKeyOf);
  ctx.progress({
    type: 'progress',
    stack: target.stack,
    resource: target.service,
    phase: 'draining',
    message: `draining ${records.map((r) => r.id).join(', ')}`,
  });
  const revision = await ctx.registry.batch({
    update: keys.map((key) => ({ key, change: { draining: true } })),
  });
  await ctx.traffic.applied(revision, 5000);
  ctx.failpoint('during-drain');
  await ctx.traffic.idle(keys, ctx.options.drainTimeoutMs);
  await ctx.registry.batch({ remove: keys });
  ctx.progress({
    type: 'progress',
    stack: target.stack,
    resource: target.service,
    phase: 'stopping',
    message: `stopping ${records.map((r) => r.id).join(', ')}`,
  });
  await Promise.all(records.map((r) => stopInstance(ctx, r, graceMs)));
}
