import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { Feed } from './feed.js';
import type { InstanceHandle, Runtime } from './runtime.js';

/** A health check as the template declares it (durations in ms). */
export interface HealthCheckSpec {
  readonly http?: { readonly path: string; readonly status?: number };
  readonly tcp?: true;
  readonly exec?: readonly string[];
  readonly interval: number;
  readonly timeout: number;
  readonly healthy_threshold: number;
  readonly unhealthy_threshold: number;
  readonly start_period: number;
}

export type HealthState = 'starting' | 'healthy' | 'unhealthy';

export interface HealthResult {
  readonly instance: string;
  readonly ok: boolean;
  /** The state after this result. */
  readonly state: HealthState;
  /** A short reason when it failed (status, error, command output). */
  readonly detail?: string;
  readonly at: string;
  readonly latencyMs: number;
}

type Probe = () => Promise<{ ok: boolean; detail?: string }>;

/**
 * One GET on a fresh connection, closed after (as kubelet and Docker probe):
 * a pooled keep-alive connection to a port a killed instance used would fail
 * the first probes of the new instance that got the port.
 */
function httpProbe(
  port: number,
  check: NonNullable<HealthCheckSpec['http']>,
  timeoutMs: number,
): Promise<{ ok: boolean; detail?: string }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: check.path,
        agent: false,
        headers: { 'user-agent': 'drover-health', connection: 'close' },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        const ok =
          check.status === undefined ? status >= 200 && status < 400 : status === check.status;
        resolve(ok ? { ok } : { ok, detail: `HTTP ${status}` });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ ok: false, detail: `no answer in ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (error) => resolve({ ok: false, detail: error.message }));
    req.end();
  });
}

function tcpProbe(port: number, timeoutMs: number): Promise<{ ok: boolean; detail?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (result: { ok: boolean; detail?: string }): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () =>
      done({ ok: false, detail: `no connection in ${timeoutMs} ms` }),
    );
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (error) => done({ ok: false, detail: error.message }));
  });
}

/** How one check is carried out against one instance. */
export function probeFor(
  runtime: Pick<Runtime, 'exec'>,
  handle: InstanceHandle,
  spec: HealthCheckSpec,
): Probe {
  if (spec.http) {
    const http = spec.http;
    return () => httpProbe(handle.port, http, spec.timeout);
  }
  if (spec.tcp) return () => tcpProbe(handle.port, spec.timeout);
  const argv = spec.exec ?? [];
  return async () => {
    const result = await runtime.exec(handle, argv, { timeoutMs: spec.timeout });
    if (result.timedOut) return { ok: false, detail: `timed out after ${spec.timeout} ms` };
    return result.exitCode === 0
      ? { ok: true }
      : { ok: false, detail: `exit ${result.exitCode}: ${result.output.trim().slice(0, 200)}` };
  };
}

/**
 * Checks one instance on an interval and tracks its state: `healthy` after
 * `healthy_threshold` passes in a row, `unhealthy` after `unhealthy_threshold`
 * failures in a row; failures during the start period do not count. Every
 * result is an event.
 */
export class HealthMonitor {
  private state: HealthState = 'starting';
  private passes = 0;
  private failures = 0;
  private readonly feed = new Feed<HealthResult>();
  private readonly controller = new AbortController();
  private readonly started = Date.now();
  private everHealthy = false;

  constructor(
    private readonly instance: string,
    private readonly probe: Probe,
    private readonly spec: HealthCheckSpec,
  ) {
    void this.loop();
  }

  get current(): HealthState {
    return this.state;
  }

  results(signal?: AbortSignal): AsyncIterable<HealthResult> {
    return this.feed.subscribe(signal);
  }

  /** Resolves true once the instance is healthy, false if it turns unhealthy first or the time runs out. */
  async ready(options: { timeoutMs: number; signal?: AbortSignal }): Promise<boolean> {
    if (this.everHealthy) return true;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    try {
      for await (const result of this.feed.subscribe(controller.signal)) {
        if (result.state === 'healthy') return true;
        if (result.state === 'unhealthy') return false;
      }
      return this.everHealthy;
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): void {
    this.controller.abort();
    this.feed.close();
  }

  private async loop(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      const t0 = Date.now();
      const { ok, detail } = await this.probe();
      if (signal.aborted) return;
      this.record(ok);
      this.feed.publish({
        instance: this.instance,
        ok,
        state: this.state,
        ...(detail ? { detail } : {}),
        at: new Date().toISOString(),
        latencyMs: Date.now() - t0,
      });
      const wait = Math.max(0, this.spec.interval - (Date.now() - t0));
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  private record(ok: boolean): void {
    if (ok) {
      this.failures = 0;
      this.passes++;
      if (this.passes >= this.spec.healthy_threshold) {
        this.state = 'healthy';
        this.everHealthy = true;
      }
      return;
    }
    this.passes = 0;
    // While the app is starting, failures are expected and not held against it.
    if (this.state === 'starting' && Date.now() - this.started < this.spec.start_period) return;
    this.failures++;
    if (this.failures >= this.spec.unhealthy_threshold) this.state = 'unhealthy';
  }
}
