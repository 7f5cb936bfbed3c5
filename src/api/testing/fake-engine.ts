import { EventEmitter, once } from 'node:events';

import type {
  ApplyRequest,
  ApplyResult,
  Engine,
  EngineEvent,
  InstanceInfo,
  RevisionInfo,
  ServiceLogLine,
  ServiceLogOptions,
  StackRevisionInfo,
  StackStatus,
} from '../../engine/types.js';
import type { StackGraph } from '../../graph/index.js';
import { buildGraph } from '../../graph/index.js';
import type { Plan } from '../../plan/index.js';
import type { DriftReport } from '../../reconcile/index.js';
import type { Endpoint, Route } from '../../registry/index.js';
import { NotFoundError } from '../errors.js';

import {
  convergedResult,
  sampleDrift,
  sampleEndpoints,
  sampleInstances,
  sampleLogs,
  samplePlan,
  sampleRevisions,
  sampleRoutes,
  sampleStackRevisions,
  sampleStatus,
} from './samples.js';

type Progress = (event: EngineEvent) => void;

/**
 * A tiny in-memory Engine at the API's contract seam: one stack `hello` with
 * a service `web`. Every call is recorded; `script` replaces the body of the
 * long operations, so a test can emit events and decide when they end.
 */
export class FakeEngine implements Engine {
  readonly calls: { method: string; args: unknown[] }[] = [];
  readonly recorded: EngineEvent[] = [];
  /** Runs instead of the default apply/destroy/rollbacks when set. */
  script?: (emit: (e: Partial<EngineEvent>) => void) => Promise<ApplyResult>;
  private readonly changed = new EventEmitter();
  /** Lines of `hello/web` so far; `log()` adds one and tells followers. */
  readonly logLines: ServiceLogLine[] = [...sampleLogs];
  private readonly logged = new EventEmitter();

  /** Records an event as the engine would, and tells followers. */
  record(event: Partial<EngineEvent>): EngineEvent {
    const full: EngineEvent = {
      seq: this.recorded.length + 1,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, this.recorded.length)).toISOString(),
      type: 'progress',
      message: '',
      ...event,
    };
    this.recorded.push(full);
    this.changed.emit('event');
    return full;
  }

  async drift(filter: { stack?: string } = {}): Promise<DriftReport> {
    this.calls.push({ method: 'drift', args: [filter] });
    const report = sampleDrift();
    return {
      ...report,
      instances: report.instances.filter(
        (f) => filter.stack === undefined || f.stack === filter.stack,
      ),
    };
  }

  async plan(request: Omit<ApplyRequest, 'who'>): Promise<Plan> {
    this.calls.push({ method: 'plan', args: [request] });
    return samplePlan(request.stack ?? 'hello');
  }

  apply(request: ApplyRequest, onProgress?: Progress): Promise<ApplyResult> {
    this.calls.push({ method: 'apply', args: [request] });
    return this.run(request.stack ?? 'hello', onProgress);
  }

  destroy(stack: string, who: string, onProgress?: Progress): Promise<ApplyResult> {
    this.calls.push({ method: 'destroy', args: [stack, who] });
    this.known(stack);
    return this.run(stack, onProgress);
  }

  async stacks(): Promise<StackStatus[]> {
    this.calls.push({ method: 'stacks', args: [] });
    return [sampleStatus];
  }

  async instances(filter: { stack?: string; service?: string } = {}): Promise<InstanceInfo[]> {
    this.calls.push({ method: 'instances', args: [filter] });
    return sampleInstances.filter(
      (i) =>
        (filter.stack === undefined || i.stack === filter.stack) &&
        (filter.service === undefined || i.service === filter.service),
    );
  }

  async history(stack: string, resource: string): Promise<RevisionInfo[]> {
    this.calls.push({ method: 'history', args: [stack, resource] });
    this.known(stack);
    return sampleRevisions;
  }

  /** `hello` as an artifact, the service `web` on it and a route to it, with the sample instances. */
  async graph(stack: string): Promise<StackGraph> {
    this.calls.push({ method: 'graph', args: [stack] });
    this.known(stack);
    const web = sampleStatus.resources.find((r) => r.name === 'web');
    const revision = web?.revision ?? '';
    return buildGraph(
      stack,
      [
        { name: 'app', type: 'Drover::Artifact', revision: 'e'.repeat(64), dependsOn: [] },
        { name: 'web', type: 'Drover::Service', revision, dependsOn: ['app'] },
        { name: 'route', type: 'Drover::Route', revision: 'f'.repeat(64), dependsOn: ['web'] },
      ],
      new Map([['web', { desired: web?.replicas?.desired ?? 0, instances: sampleInstances }]]),
    );
  }

  async stackHistory(stack: string): Promise<StackRevisionInfo[]> {
    this.calls.push({ method: 'stackHistory', args: [stack] });
    this.known(stack);
    return sampleStackRevisions;
  }

  rollbackService(
    stack: string,
    service: string,
    options: { to?: string; who: string },
    onProgress?: Progress,
  ): Promise<ApplyResult> {
    this.calls.push({ method: 'rollbackService', args: [stack, service, options] });
    this.known(stack);
    return this.run(stack, onProgress);
  }

  rollbackStack(
    stack: string,
    to: number,
    who: string,
    onProgress?: Progress,
  ): Promise<ApplyResult> {
    this.calls.push({ method: 'rollbackStack', args: [stack, to, who] });
    this.known(stack);
    return this.run(stack, onProgress);
  }

  async *events(options: {
    since?: number;
    follow?: boolean;
    stack?: string;
    signal?: AbortSignal;
  }): AsyncIterable<EngineEvent> {
    this.calls.push({ method: 'events', args: [{ ...options, signal: undefined }] });
    let next = options.since ?? 0;
    for (;;) {
      for (const event of this.recorded.slice(next)) {
        next = event.seq;
        if (options.stack === undefined || event.stack === options.stack) yield event;
      }
      if (!options.follow || options.signal?.aborted) return;
      try {
        await once(this.changed, 'event', { signal: options.signal });
      } catch (error) {
        if (options.signal?.aborted) return;
        throw error;
      }
    }
  }

  /** Adds a line to `hello/web`'s output, as an instance writing it would. */
  log(line: ServiceLogLine): void {
    this.logLines.push(line);
    this.logged.emit('line');
  }

  async logs(
    stack: string,
    service: string,
    options: ServiceLogOptions = {},
  ): Promise<AsyncIterable<ServiceLogLine>> {
    this.calls.push({ method: 'logs', args: [stack, service, { ...options, signal: undefined }] });
    this.known(stack);
    if (service !== 'web') throw new NotFoundError(`${stack} has no service ${service}`);
    const lines = this.logLines;
    const logged = this.logged;
    // From the lines there are at the call: a line logged after it is new, however soon.
    let next = options.tail === undefined ? 0 : Math.max(0, lines.length - options.tail);
    return (async function* () {
      for (;;) {
        while (next < lines.length) yield lines[next++] as ServiceLogLine;
        if (!options.follow || options.signal?.aborted) return;
        try {
          await once(logged, 'line', { signal: options.signal });
        } catch (error) {
          if (options.signal?.aborted) return;
          throw error;
        }
      }
    })();
  }

  async routes(filter: { stack?: string } = {}): Promise<Route[]> {
    this.calls.push({ method: 'routes', args: [filter] });
    return sampleRoutes.filter((r) => filter.stack === undefined || r.stack === filter.stack);
  }

  async endpoints(filter: { stack?: string; service?: string } = {}): Promise<Endpoint[]> {
    this.calls.push({ method: 'endpoints', args: [filter] });
    return sampleEndpoints.filter(
      (e) =>
        (filter.stack === undefined || e.stack === filter.stack) &&
        (filter.service === undefined || e.service === filter.service),
    );
  }

  private known(stack: string): void {
    if (stack !== 'hello') throw new NotFoundError(`no stack named ${stack}`);
  }

  private async run(stack: string, onProgress: Progress | undefined): Promise<ApplyResult> {
    const emit = (e: Partial<EngineEvent>): void => onProgress?.(this.record({ stack, ...e }));
    if (this.script) return this.script(emit);
    emit({ resource: 'web', phase: 'starting', message: 'starting 1 instance' });
    emit({ resource: 'web', phase: 'healthy', message: 'instance a1b2 is healthy' });
    return convergedResult(stack);
  }
}
