import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

import type { ServiceFacts, StackGraph } from '../graph/index.js';
import { buildGraph } from '../graph/index.js';
import type { Plan } from '../plan/index.js';
import { planStack } from '../plan/index.js';
import type { DriftReport } from '../reconcile/index.js';
import type { Endpoint, Registry, Route } from '../registry/index.js';
import type { Runtime, RuntimeKind } from '../runtime/index.js';
import type { Sealer } from '../secrets/index.js';
import type { Store } from '../store/index.js';
import type { Json, ResolvedResource, ResolvedStack } from '../template/index.js';
import { compileStack } from '../template/index.js';

import type { ApplyContext } from './apply.js';
import { applyStack, openRevision } from './apply.js';
import { InvalidTemplateError, NotFoundError } from './errors.js';
import type { EventLog } from './events.js';
import { serviceLogs } from './logs.js';
import { readRecordedState } from './records.js';
import { locateStack } from './stack-file.js';
import type {
  DeploymentBook,
  InstanceBook,
  RevisionBook,
  StackRevisionBook,
  StoredRevision,
} from './state.js';
import type {
  Actor,
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
} from './types.js';

export interface EngineParts {
  readonly home: string;
  readonly store: Store;
  readonly sealer: Sealer;
  readonly events: EventLog;
  readonly registry: Registry;
  readonly instances: InstanceBook;
  readonly deployments: DeploymentBook;
  readonly revisions: RevisionBook;
  readonly stackRevisions: StackRevisionBook;
  /** Where route URLs point: the proxy's address. */
  readonly proxyUrl: string;
  /** Key of the digests that stand in for hidden values in specs. */
  readonly hiddenKey: Uint8Array;
  /** Scans for drift now (the reconciler's scan). */
  drift(filter: { stack?: string }): Promise<DriftReport>;
  /** Builds the apply context with a progress sink for one operation. */
  applyContext(progress: (event: EngineEvent) => void): ApplyContext;
  /** Whether an instance takes traffic now, and its health as last seen. */
  health(instance: string): { serving: boolean; health: InstanceInfo['health'] };
  /** The runtime of a kind (for reading instance logs). */
  runtime(kind: RuntimeKind): Promise<Runtime>;
}

/**
 * The engine: what `drover serve` exposes through the API. Applies and
 * rollbacks of one stack run one at a time; different stacks do not wait for
 * each other.
 */
export class DroverEngine implements Engine {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly parts: EngineParts) {}

  private readonly operations = new Map<string, number>();

  /**
   * Runs `task` after every earlier task on the same stack. The engine's own
   * operations (apply, rollback, destroy) make the stack `busy` until they
   * end; the reconciler's heals take turns without doing so.
   */
  exclusive<T>(stack: string, task: () => Promise<T>, operation = true): Promise<T> {
    if (operation) {
      this.operations.set(stack, (this.operations.get(stack) ?? 0) + 1);
      this.bump();
    }
    const run = operation
      ? () =>
          task().finally(() => {
            const left = (this.operations.get(stack) ?? 1) - 1;
            if (left === 0) this.operations.delete(stack);
            else this.operations.set(stack, left);
            this.bump();
          })
      : task;
    const previous = this.locks.get(stack) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.locks.set(
      stack,
      next.catch(() => undefined),
    );
    return next;
  }

  private generationCount = 0;

  private bump(): void {
    this.generationCount++;
  }

  /**
   * Changes whenever an operation on any stack is queued or ends: facts
   * gathered while it changed may be stale (the reconciler's check).
   */
  generation(): number {
    return this.generationCount;
  }

  /** Whether an apply, rollback or destroy of the stack is queued or under way. */
  busy(stack: string): boolean {
    return this.operations.has(stack);
  }

  drift(filter: { stack?: string } = {}): Promise<DriftReport> {
    return this.parts.drift(filter);
  }

  async compile(request: Omit<ApplyRequest, 'who'>): Promise<ResolvedStack> {
    const { file, stack } = locateStack(resolve(request.file), request.stack);
    const result = await compileStack(file, {
      stack,
      mode: 'plan',
      parameters: request.parameters,
      hiddenKey: this.parts.hiddenKey,
      home: this.parts.home,
      proxyUrl: this.parts.proxyUrl,
    });
    if (result.stack === undefined) throw new InvalidTemplateError(result.diagnostics);
    return result.stack;
  }

  async plan(request: Omit<ApplyRequest, 'who'>): Promise<Plan> {
    const desired = await this.compile(request);
    return planStack(desired, await readRecordedState(this.parts.store, desired.name));
  }

  apply(request: ApplyRequest, onProgress?: (event: EngineEvent) => void): Promise<ApplyResult> {
    const { stack } = locateStack(resolve(request.file), request.stack);
    return this.exclusive(stack, async () => {
      const desired = await this.compile(request);
      return applyStack(
        this.parts.applyContext(onProgress ?? (() => undefined)),
        desired,
        request.who,
        'apply',
      );
    });
  }

  /** Converges a stack to a desired state recorded earlier (crash recovery). */
  resume(desired: ResolvedStack, who: Actor, kind: 'apply' | 'rollback'): Promise<ApplyResult> {
    return this.exclusive(desired.name, () =>
      applyStack(
        this.parts.applyContext(() => undefined),
        desired,
        who,
        kind,
      ),
    );
  }

  destroy(
    stack: string,
    who: Actor,
    onProgress?: (event: EngineEvent) => void,
  ): Promise<ApplyResult> {
    return this.exclusive(stack, async () => {
      const latest = await this.parts.stackRevisions.latest(stack);
      if (latest === undefined) throw new NotFoundError(`no stack named ${stack}`);
      const result = await applyStack(
        this.parts.applyContext(onProgress ?? (() => undefined)),
        emptyStack(stack),
        who,
        'apply',
      );
      if (result.status !== 'failed') {
        await this.parts.events.record({
          type: 'destroy',
          stack,
          who,
          message: `${stack} destroyed`,
        });
      }
      return result;
    });
  }

  async stacks(): Promise<StackStatus[]> {
    const out: StackStatus[] = [];
    for (const stack of await this.parts.stackRevisions.stacks()) {
      const latest = await this.parts.stackRevisions.latest(stack);
      if (latest === undefined || Object.keys(latest.resources).length === 0) continue;
      const instances = await this.parts.instances.list(stack);
      const resources: StackStatus['resources'][number][] = [];
      for (const [name, recorded] of Object.entries(latest.recorded.resources)) {
        const base = { name, type: recorded.type, revision: recorded.revision };
        if (recorded.type !== 'Drover::Service') {
          resources.push(base);
          continue;
        }
        const mine = instances.filter(
          (i) => i.service === name && i.revision === recorded.revision && i.state === 'running',
        );
        const deployment = await this.parts.deployments.get(stack, name);
        resources.push({
          ...base,
          replicas: {
            desired: Number(recorded.spec['replicas'] ?? 0),
            running: mine.length,
            healthy: mine.filter((i) => this.parts.health(i.id).health === 'healthy').length,
          },
          ...(deployment
            ? {
                deployment: {
                  strategy: deployment.strategy,
                  phase: deployment.phase,
                  to: deployment.to,
                },
              }
            : {}),
        });
      }
      out.push({
        stack,
        ...(latest.file ? { file: latest.file } : {}),
        stackRevision: latest.number,
        appliedAt: latest.createdAt,
        resources,
        outputs: latest.outputs.map((o) => ({ name: o.name, value: o.value })),
      });
    }
    return out;
  }

  async instances(filter: { stack?: string; service?: string } = {}): Promise<InstanceInfo[]> {
    const records = await this.parts.instances.list(
      filter.stack,
      filter.stack === undefined ? undefined : filter.service,
    );
    return records
      .filter((r) => filter.service === undefined || r.service === filter.service)
      .map((r) => {
        const { serving, health } = this.parts.health(r.id);
        return {
          id: r.id,
          stack: r.stack,
          service: r.service,
          revision: r.revision,
          runtime: r.runtime,
          state: r.state === 'stopping' ? 'stopping' : r.state,
          health,
          serving,
          ...(r.color ? { color: r.color } : {}),
          port: r.port,
          ...(r.handle?.pid === undefined ? {} : { pid: r.handle.pid }),
          ...(r.handle?.container === undefined ? {} : { container: r.handle.container }),
          ...(r.handle?.dir === undefined ? {} : { dir: r.handle.dir }),
          ...(r.handle?.startedAt ? { startedAt: r.handle.startedAt } : {}),
          ...(r.handle ? { handle: r.handle } : {}),
        };
      });
  }

  async history(stack: string, resource: string): Promise<RevisionInfo[]> {
    const revisions = await this.parts.revisions.list(stack, resource);
    if (revisions.length === 0) throw new NotFoundError(`no revisions of ${stack}/${resource}`);
    const current = (await readRecordedState(this.parts.store, stack)).resources[resource]
      ?.revision;
    return revisions.map((r) => publicRevision(r, r.id === current));
  }

  async graph(stack: string): Promise<StackGraph> {
    const latest = await this.parts.stackRevisions.latest(stack);
    if (latest === undefined || Object.keys(latest.resources).length === 0)
      throw new NotFoundError(`no stack named ${stack}`);
    const recorded = Object.entries(latest.recorded.resources);
    const instances = await this.instances({ stack });
    const facts = new Map<string, ServiceFacts>();
    for (const [name, r] of recorded) {
      if (r.type !== 'Drover::Service') continue;
      const deployment = await this.parts.deployments.get(stack, name);
      facts.set(name, {
        desired: Number(r.spec['replicas'] ?? 0),
        instances: instances.filter((i) => i.service === name),
        ...(deployment
          ? {
              deployment: {
                strategy: deployment.strategy,
                phase: deployment.phase,
                to: deployment.to,
              },
            }
          : {}),
      });
    }
    const resources = recorded.map(([name, r]) => ({ name, ...r }));
    return buildGraph(stack, resources, facts);
  }

  async stackHistory(stack: string): Promise<StackRevisionInfo[]> {
    const list = await this.parts.stackRevisions.list(stack);
    if (list.length === 0) throw new NotFoundError(`no stack named ${stack}`);
    return list.map((r) => ({
      number: r.number,
      stack: r.stack,
      createdAt: r.createdAt,
      createdBy: r.createdBy,
      templateHash: r.templateHash,
      kind: r.kind,
      resources: r.resources,
    }));
  }

  rollbackService(
    stack: string,
    service: string,
    options: { to?: string; who: Actor },
    onProgress?: (event: EngineEvent) => void,
  ): Promise<ApplyResult> {
    return this.exclusive(stack, async () => {
      const latest = await this.parts.stackRevisions.latest(stack);
      if (latest === undefined) throw new NotFoundError(`no stack named ${stack}`);
      const current = latest.resources[service];
      if (current === undefined) throw new NotFoundError(`${stack} has no resource ${service}`);
      const revisions = await this.parts.revisions.list(stack, service);
      const to =
        options.to === undefined
          ? revisions.find((r) => r.id !== current)
          : revisions.find((r) => r.id.startsWith(options.to ?? ''));
      if (to === undefined)
        throw new NotFoundError(
          options.to === undefined
            ? `${stack}/${service} has no earlier revision`
            : `${stack}/${service} has no revision ${options.to}`,
        );
      // The stack as it is now, with this one resource back at the earlier revision.
      const desired = await this.desiredFrom(
        stack,
        { ...latest.resources, [service]: to.id },
        latest.outputs,
        latest.file,
      );
      await this.parts.events.record({
        type: 'rollback',
        stack,
        resource: service,
        who: options.who,
        message: `rolling ${stack}/${service} back to ${to.id.slice(0, 12)}`,
        data: { to: to.id, from: current },
      });
      return applyStack(
        this.parts.applyContext(onProgress ?? (() => undefined)),
        desired,
        options.who,
        'rollback',
      );
    });
  }

  rollbackStack(
    stack: string,
    to: number,
    who: Actor,
    onProgress?: (event: EngineEvent) => void,
  ): Promise<ApplyResult> {
    return this.exclusive(stack, async () => {
      const target = await this.parts.stackRevisions.get(stack, to);
      if (target === undefined) throw new NotFoundError(`${stack} has no stack revision ${to}`);
      const desired = await this.desiredFrom(stack, target.resources, target.outputs, target.file);
      await this.parts.events.record({
        type: 'rollback',
        stack,
        who,
        message: `rolling ${stack} back to stack revision ${to}`,
        data: { to },
      });
      return applyStack(
        this.parts.applyContext(onProgress ?? (() => undefined)),
        desired,
        who,
        'rollback',
      );
    });
  }

  /** A resolved stack rebuilt from recorded revisions (their sealed properties opened). */
  private async desiredFrom(
    stack: string,
    resources: { readonly [name: string]: string },
    outputs: ResolvedStack['outputs'],
    file: string | undefined,
  ): Promise<ResolvedStack> {
    const list: ResolvedResource[] = [];
    for (const [name, id] of Object.entries(resources)) {
      const stored = await this.parts.revisions.get(stack, name, id);
      if (stored === undefined)
        throw new NotFoundError(`revision ${id.slice(0, 12)} of ${stack}/${name} is not recorded`);
      list.push(resourceFrom(stored, openRevision(this.parts.sealer, stored)));
    }
    return {
      name: stack,
      file: file ?? '',
      templateHash: 'rollback',
      parameters: [],
      resources: order(list),
      outputs,
    };
  }

  events(options: {
    since?: number;
    follow?: boolean;
    stack?: string;
    signal?: AbortSignal;
  }): AsyncIterable<EngineEvent> {
    if (options.follow) return this.parts.events.follow(options);
    const log = this.parts.events;
    return (async function* () {
      for (const e of await log.list(options)) yield e;
    })();
  }

  logs(
    stack: string,
    service: string,
    options: ServiceLogOptions = {},
  ): Promise<AsyncIterable<ServiceLogLine>> {
    return serviceLogs(this.parts, stack, service, options);
  }

  async routes(filter: { stack?: string } = {}): Promise<Route[]> {
    return [...(await this.parts.registry.snapshot(filter.stack)).routes];
  }

  async endpoints(filter: { stack?: string; service?: string } = {}): Promise<Endpoint[]> {
    const { endpoints } = await this.parts.registry.snapshot(filter.stack);
    return endpoints.filter((e) => filter.service === undefined || e.service === filter.service);
  }
}

function publicRevision(r: StoredRevision, current: boolean): RevisionInfo {
  return {
    id: r.id,
    stack: r.stack,
    resource: r.resource,
    type: r.type,
    createdAt: r.createdAt,
    createdBy: r.createdBy,
    templateHash: r.templateHash,
    parameters: r.parameters,
    spec: r.spec,
    current,
  };
}

function resourceFrom(stored: StoredRevision, properties: unknown): ResolvedResource {
  return {
    name: stored.resource,
    type: stored.type,
    properties,
    spec: stored.spec,
    revision: stored.id,
    dependsOn: stored.dependsOn,
    deletionPolicy: stored.deletionPolicy,
    attributes: {},
    dir: stored.dir,
    loc: { file: '', line: 0, col: 0 },
    hidden: [],
  } as unknown as ResolvedResource;
}

/** Dependencies first, as resolution orders them. */
function order(resources: ResolvedResource[]): ResolvedResource[] {
  const byName = new Map(resources.map((r) => [r.name, r]));
  const out: ResolvedResource[] = [];
  const seen = new Set<string>();
  const visit = (r: ResolvedResource): void => {
    if (seen.has(r.name)) return;
    seen.add(r.name);
    for (const d of r.dependsOn) {
      const dep = byName.get(d);
      if (dep) visit(dep);
    }
    out.push(r);
  };
  for (const r of resources) visit(r);
  return out;
}

function emptyStack(stack: string): ResolvedStack {
  return {
    name: stack,
    file: '',
    templateHash: 'destroy',
    parameters: [],
    resources: [],
    outputs: [],
  };
}

/** A random key for digests when no home key exists (nothing hidden was recorded yet). */
export function ephemeralKey(): Uint8Array {
  return randomBytes(32);
}

export type { Json };
