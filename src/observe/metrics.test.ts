import { describe, expect, it } from 'vitest';

import { ProxyMetrics } from '../proxy/index.js';

import type { InstanceSample, ObservedEvent } from './metrics.js';
import { DroverMetrics } from './metrics.js';
import { parseExposition, total } from './testing/exposition.js';

const scrape = async (metrics: DroverMetrics) => parseExposition(await metrics.render());

describe('DroverMetrics: what engine events count', () => {
  const events: ObservedEvent[] = [
    { type: 'apply.started', stack: 'web', data: { kind: 'apply' } },
    { type: 'apply.converged', stack: 'web', data: { stackRevision: 1, kind: 'apply' } },
    { type: 'apply.converged', stack: 'web', data: { kind: 'apply' } },
    { type: 'apply.failed', stack: 'web', data: { kind: 'apply' } },
    // A rollback runs as an apply of kind rollback: counted as a rollback only.
    { type: 'rollback', stack: 'web', resource: 'api', who: 'alice' },
    { type: 'apply.converged', stack: 'web', data: { stackRevision: 2, kind: 'rollback' } },
    { type: 'rollback', stack: 'web', who: 'alice', data: { to: 1 } },
    { type: 'rollback', stack: 'web', resource: 'api', who: 'drover (reconcile)' },
    { type: 'progress', stack: 'web', resource: 'api', phase: 'rolling-back' },
    { type: 'progress', stack: 'web', resource: 'api', phase: 'starting' },
    {
      type: 'deploy.succeeded',
      stack: 'web',
      resource: 'api',
      data: { strategy: 'canary', ms: 12_000 },
    },
    {
      type: 'deploy.failed',
      stack: 'web',
      resource: 'api',
      data: { strategy: 'canary', ms: 3000 },
    },
    { type: 'instance.healed', stack: 'web', resource: 'api', data: { ms: 400, reason: 'exited' } },
    { type: 'instance.healed', stack: 'web', resource: 'api', data: { ms: 900, reason: 'drift' } },
    { type: 'instance.healed', stack: 'web', resource: 'api', data: { ms: 900, reason: 'odd' } },
    { type: 'instance.orphan', stack: 'web', resource: 'api' },
    { type: 'revision.failed', stack: 'web', resource: 'api' },
    { type: 'reconcile.failed' },
  ];

  it('applies, deploys, rollbacks, heals, orphans, crash loops and failures', async () => {
    const metrics = new DroverMetrics({}, { processMetrics: false });
    for (const event of events) metrics.event(event);
    const m = await scrape(metrics);
    expect(total(m, 'drover_applies_total', { stack: 'web', result: 'converged' })).toBe(1);
    expect(total(m, 'drover_applies_total', { result: 'unchanged' })).toBe(1);
    expect(total(m, 'drover_applies_total', { result: 'failed' })).toBe(1);
    expect(total(m, 'drover_applies_total')).toBe(3);
    expect(total(m, 'drover_rollbacks_total', { kind: 'service' })).toBe(1);
    expect(total(m, 'drover_rollbacks_total', { kind: 'stack' })).toBe(1);
    expect(total(m, 'drover_rollbacks_total', { kind: 'automatic' })).toBe(1);
    expect(total(m, 'drover_rollbacks_total', { kind: 'canary' })).toBe(1);
    const canary = { stack: 'web', service: 'api', strategy: 'canary' };
    expect(total(m, 'drover_deploys_total', { ...canary, result: 'succeeded' })).toBe(1);
    expect(total(m, 'drover_deploys_total', { ...canary, result: 'failed' })).toBe(1);
    // Only successful deploys are timed: a failure's time says little about deploys.
    const deployCount = 'drover_deploy_duration_seconds_count';
    expect(total(m, 'drover_deploy_duration_seconds', { strategy: 'canary' }, deployCount)).toBe(1);
    const deploySum = 'drover_deploy_duration_seconds_sum';
    expect(total(m, 'drover_deploy_duration_seconds', {}, deploySum)).toBe(12);
    expect(total(m, 'drover_heals_total', { service: 'api', reason: 'exited' })).toBe(1);
    expect(total(m, 'drover_heals_total', { reason: 'drift' })).toBe(1);
    expect(total(m, 'drover_heals_total', { reason: 'missing' })).toBe(1);
    const healBucket = 'drover_heal_duration_seconds_bucket';
    expect(total(m, 'drover_heal_duration_seconds', { le: '0.5' }, healBucket)).toBe(1);
    expect(total(m, 'drover_heal_duration_seconds', { le: '1' }, healBucket)).toBe(3);
    expect(total(m, 'drover_orphans_stopped_total')).toBe(1);
    expect(total(m, 'drover_crash_loops_total', { stack: 'web', service: 'api' })).toBe(1);
    expect(total(m, 'drover_reconcile_failures_total')).toBe(1);
    expect(total(m, 'drover_events_total', { type: 'progress' })).toBe(2);
    expect(total(m, 'drover_events_total')).toBe(events.length);
  });

  it('counts runtime starts and exits by how they ended, and reconcile passes', async () => {
    const metrics = new DroverMetrics({}, { processMetrics: false });
    metrics.runtimeEvent('process', { type: 'start' });
    metrics.runtimeEvent('process', { type: 'start' });
    metrics.runtimeEvent('docker', { type: 'start' });
    metrics.runtimeEvent('process', { type: 'exit', exitCode: 0, signal: null });
    metrics.runtimeEvent('process', { type: 'exit', exitCode: 3, signal: null });
    metrics.runtimeEvent('process', { type: 'exit', exitCode: null, signal: 'SIGKILL' });
    metrics.runtimeEvent('docker', { type: 'exit', exitCode: 137, signal: null, oomKilled: true });
    metrics.runtimeEvent('process', { type: 'exit', exitCode: null, signal: null });
    metrics.reconcilePass(0.002);
    metrics.reconcilePass(0.3);
    const m = await scrape(metrics);
    expect(total(m, 'drover_instance_starts_total', { runtime: 'process' })).toBe(2);
    expect(total(m, 'drover_instance_starts_total', { runtime: 'docker' })).toBe(1);
    const exits = (reason: string): number => total(m, 'drover_instance_exits_total', { reason });
    expect([exits('completed'), exits('failed'), exits('killed'), exits('oom')]).toEqual([
      1, 1, 1, 1,
    ]);
    expect(exits('unknown')).toBe(1);
    expect(total(m, 'drover_reconcile_passes_total')).toBe(2);
    const passCount = 'drover_reconcile_pass_duration_seconds_count';
    expect(total(m, 'drover_reconcile_pass_duration_seconds', {}, passCount)).toBe(2);
  });
});

describe('DroverMetrics: what is read on every scrape', () => {
  it('instances by state and drift findings, as the sources say now', async () => {
    let instances: InstanceSample[] = [
      { stack: 'web', service: 'api', runtime: 'process', state: 'running' },
      { stack: 'web', service: 'api', runtime: 'process', state: 'running' },
      { stack: 'web', service: 'api', runtime: 'process', state: 'starting' },
    ];
    let drifted = [{ stack: 'web', service: 'api' }];
    const metrics = new DroverMetrics(
      { instances: async () => instances, driftFindings: () => drifted },
      { processMetrics: false },
    );
    let m = await scrape(metrics);
    expect(total(m, 'drover_instances', { service: 'api', state: 'running' })).toBe(2);
    expect(total(m, 'drover_instances', { state: 'starting' })).toBe(1);
    expect(total(m, 'drover_drift_findings', { stack: 'web', service: 'api' })).toBe(1);
    instances = [{ stack: 'web', service: 'api', runtime: 'docker', state: 'running' }];
    drifted = [];
    m = await scrape(metrics);
    // Gone means gone: no series stays behind at its old value.
    expect(m.get('drover_instances')?.samples).toEqual([
      {
        name: 'drover_instances',
        labels: { stack: 'web', service: 'api', runtime: 'docker', state: 'running' },
        value: 1,
      },
    ]);
    expect(m.get('drover_drift_findings')?.samples).toEqual([]);
  });

  it("the proxy's series, summed over instances, by route, service, revision and status class", async () => {
    const proxy = new ProxyMetrics();
    const labels = { route: 'web/route', service: 'web/web', revision: 'r1' };
    const a = proxy.seriesFor({ ...labels, instance: 'web-a' });
    const b = proxy.seriesFor({ ...labels, instance: 'web-b' });
    const c = proxy.seriesFor({ ...labels, revision: 'r2', instance: 'web-c' });
    proxy.observe(a, 200, 0.003);
    proxy.observe(a, 200, 0.02);
    proxy.observe(b, 200, 0.003);
    proxy.observe(b, 503, 2);
    proxy.observe(c, 404, 0.0005);
    const metrics = new DroverMetrics({ proxy: () => proxy.snapshot() }, { processMetrics: false });
    const m = await scrape(metrics);
    const requests = 'drover_proxy_requests_total';
    expect(total(m, requests, { ...labels, status: '2xx' })).toBe(3);
    expect(total(m, requests, { ...labels, status: '5xx' })).toBe(1);
    expect(total(m, requests, { revision: 'r2', status: '4xx' })).toBe(1);
    expect(m.get(requests)?.samples.every((s) => !('instance' in s.labels))).toBe(true);
    const duration = 'drover_proxy_request_duration_seconds';
    expect(m.get(duration)?.type).toBe('histogram');
    expect(total(m, duration, labels, `${duration}_count`)).toBe(4);
    expect(total(m, duration, { ...labels, le: '0.005' }, `${duration}_bucket`)).toBe(2);
    expect(total(m, duration, { ...labels, le: '+Inf' }, `${duration}_bucket`)).toBe(4);
    expect(total(m, duration, labels, `${duration}_sum`)).toBeCloseTo(2.026);
  });
});

describe('DroverMetrics: one registry per daemon', () => {
  it('keeps two instances apart, each with the process metrics under drover_', async () => {
    const one = new DroverMetrics();
    const two = new DroverMetrics();
    one.event({ type: 'instance.orphan' });
    const [a, b] = [await scrape(one), await scrape(two)];
    expect(total(a, 'drover_orphans_stopped_total')).toBe(1);
    expect(total(b, 'drover_orphans_stopped_total')).toBe(0);
    expect(a.has('drover_process_cpu_user_seconds_total')).toBe(true);
    expect(a.has('drover_nodejs_heap_size_used_bytes')).toBe(true);
    expect([...a.keys()].every((name) => name.startsWith('drover_'))).toBe(true);
    // What promtool's linter asks: counters and only counters end in _total.
    for (const family of a.values())
      expect(family.name.endsWith('_total'), family.name).toBe(family.type === 'counter');
    expect(one.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
