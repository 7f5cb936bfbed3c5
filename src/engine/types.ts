import type { StackGraph } from '../graph/index.js';
import type { Plan } from '../plan/index.js';
import type { DriftReport } from '../reconcile/index.js';
import type { Endpoint, Route } from '../registry/index.js';
import type { InstanceHandle, RuntimeKind } from '../runtime/index.js';
import type { Json, ParameterInput } from '../template/index.js';

/**
 * The engine's vocabulary, as the API, the CLI and the dashboard see it.
 *
 * - stack revision: one numbered, immutable record per successful apply (or
 *   rollback) of a stack: which revision of each resource it ran.
 * - revision: one immutable, content-addressed version of a resource
 *   (for services and jobs: what instances run), with who made it and when.
 * - instance: one running copy of a service revision (cattle: a generated id).
 * - deployment: the replacement of a service's instances by those of another
 *   revision, following its strategy (rolling, blue-green, canary).
 */

/** Who asked, for history and audit. */
export type Actor = string;

export interface ApplyRequest {
  /** The template file, as the daemon can read it (the CLI sends an absolute path). */
  readonly file: string;
  /** Defaults to the file's name (see locateStack). */
  readonly stack?: string;
  readonly parameters: readonly ParameterInput[];
  readonly who: Actor;
  readonly signal?: AbortSignal;
}

export type ProgressPhase =
  | 'planning'
  | 'building'
  | 'starting'
  | 'healthy'
  | 'unhealthy'
  | 'registering'
  | 'switching'
  | 'step'
  | 'draining'
  | 'stopping'
  | 'running'
  | 'done'
  | 'failed'
  | 'rolling-back';

/** What happened; every event is recorded (who, when, what) and can be followed live. */
export interface EngineEvent {
  /** Store-assigned order, strictly increasing. */
  readonly seq: number;
  readonly at: string;
  readonly type:
    | 'apply.started'
    | 'apply.converged'
    | 'apply.failed'
    | 'progress'
    | 'deploy.started'
    | 'deploy.succeeded'
    | 'deploy.failed'
    | 'rollback'
    | 'instance.started'
    | 'instance.ready'
    | 'instance.stopped'
    | 'instance.exited'
    | 'instance.unhealthy'
    | 'instance.healed'
    | 'instance.replaced'
    | 'instance.orphan'
    | 'revision.failed'
    | 'drift.detected'
    | 'reconcile.failed'
    | 'destroy'
    | 'job.succeeded'
    | 'job.failed'
    | 'config.rendered'
    | 'config.failed'
    | 'daemon.started'
    | 'daemon.recovered'
    | 'audit';
  readonly stack?: string;
  readonly resource?: string;
  readonly phase?: ProgressPhase;
  readonly who?: Actor;
  readonly message: string;
  /** Extra facts (revision ids, counts, ports); never a secret. */
  readonly data?: { readonly [key: string]: Json };
}

export interface ApplyResult {
  readonly stack: string;
  readonly status: 'converged' | 'failed' | 'unchanged';
  /** The stack revision recorded by this apply (absent when it failed or changed nothing). */
  readonly stackRevision?: number;
  readonly plan: Plan;
  /** Why it failed, for people. */
  readonly error?: string;
  /** Output values as the template declares them (hidden parts shown as "(hidden)"). */
  readonly outputs: {
    readonly name: string;
    readonly description?: string;
    readonly value: Json;
  }[];
}

export interface InstanceInfo {
  readonly id: string;
  readonly stack: string;
  readonly service: string;
  readonly revision: string;
  readonly runtime: RuntimeKind;
  readonly state: 'starting' | 'running' | 'draining' | 'stopping' | 'exited';
  readonly health: 'unknown' | 'starting' | 'healthy' | 'unhealthy';
  /** Serving traffic through the proxy right now. */
  readonly serving: boolean;
  readonly color?: string;
  readonly port: number;
  readonly pid?: number;
  readonly container?: string;
  /** Process runtime: the instance's root directory. */
  readonly dir?: string;
  readonly startedAt?: string;
  readonly handle?: InstanceHandle;
}

export interface RevisionInfo {
  readonly id: string;
  readonly stack: string;
  readonly resource: string;
  readonly type: string;
  readonly createdAt: string;
  readonly createdBy: Actor;
  readonly templateHash: string;
  /** Parameter values it was made with; hidden ones as "(hidden)". */
  readonly parameters: { readonly [name: string]: Json };
  /** The recorded spec (never a secret). */
  readonly spec: { readonly [key: string]: Json };
  /** Whether instances of it run now. */
  readonly current: boolean;
}

export interface StackRevisionInfo {
  readonly number: number;
  readonly stack: string;
  readonly createdAt: string;
  readonly createdBy: Actor;
  readonly templateHash: string;
  readonly kind: 'apply' | 'rollback';
  /** Resource name → revision id. */
  readonly resources: { readonly [name: string]: string };
}

export interface StackStatus {
  readonly stack: string;
  readonly file?: string;
  readonly stackRevision?: number;
  readonly appliedAt?: string;
  readonly resources: {
    readonly name: string;
    readonly type: string;
    readonly revision: string;
    /** Services: running/desired instances and the deployment under way, if any. */
    readonly replicas?: {
      readonly desired: number;
      readonly running: number;
      readonly healthy: number;
    };
    readonly deployment?: {
      readonly strategy: string;
      readonly phase: string;
      readonly to: string;
    };
  }[];
  readonly outputs: { readonly name: string; readonly value: Json }[];
}

/** One line of a service's output, tagged with the instance that wrote it. */
export interface ServiceLogLine {
  readonly instance: string;
  readonly stream: 'stdout' | 'stderr';
  /** With known secret values (secrets, hidden parameters) replaced by "(hidden)". */
  readonly line: string;
  /** When the runtime knows it (Docker does; the process runtime does not). */
  readonly at?: string;
}

export interface ServiceLogOptions {
  /** Keep reading new lines (and instances that start later) until the signal aborts. */
  readonly follow?: boolean;
  /** Only the last N lines of each instance's history. */
  readonly tail?: number;
  readonly signal?: AbortSignal;
}

/** What the API and the CLI call; the daemon implements it. */
export interface Engine {
  plan(request: Omit<ApplyRequest, 'who'>): Promise<Plan>;
  /** Applies a template; `onProgress` sees the apply's events as they are recorded. */
  apply(request: ApplyRequest, onProgress?: (event: EngineEvent) => void): Promise<ApplyResult>;
  /** Removes a stack's resources (volumes with deletion_policy retain keep their data). */
  destroy(
    stack: string,
    who: Actor,
    onProgress?: (event: EngineEvent) => void,
  ): Promise<ApplyResult>;
  stacks(): Promise<StackStatus[]>;
  instances(filter?: { stack?: string; service?: string }): Promise<InstanceInfo[]>;
  /** Revisions of a resource, newest first. */
  history(stack: string, resource: string): Promise<RevisionInfo[]>;
  stackHistory(stack: string): Promise<StackRevisionInfo[]>;
  /** Brings back an earlier revision of one service (default: the one before the current). */
  rollbackService(
    stack: string,
    service: string,
    options: { to?: string; who: Actor },
    onProgress?: (event: EngineEvent) => void,
  ): Promise<ApplyResult>;
  /** Brings back a whole earlier stack revision. */
  rollbackStack(
    stack: string,
    to: number,
    who: Actor,
    onProgress?: (event: EngineEvent) => void,
  ): Promise<ApplyResult>;
  /** Instances (and rendered config files) that differ from what their revision started them as. */
  drift(filter?: { stack?: string }): Promise<DriftReport>;
  /**
   * The stack's resources as a graph (nodes by dependency depth, edges from
   * dependencies), with its services' live health; NOT_FOUND for an unknown stack.
   */
  graph(stack: string): Promise<StackGraph>;
  /** Recorded events from `since` (exclusive), then, with `follow`, new ones as they happen. */
  events(options: {
    since?: number;
    follow?: boolean;
    stack?: string;
    signal?: AbortSignal;
  }): AsyncIterable<EngineEvent>;
  /**
   * A service's output merged across its instances. Rejects (NOT_FOUND) when
   * the stack has no such service; the lines come from the iterable.
   */
  logs(
    stack: string,
    service: string,
    options?: ServiceLogOptions,
  ): Promise<AsyncIterable<ServiceLogLine>>;
  /** The proxy's routes as the registry has them now. */
  routes(filter?: { stack?: string }): Promise<Route[]>;
  /** Live endpoints of services as the registry has them now (what the proxy balances over). */
  endpoints(filter?: { stack?: string; service?: string }): Promise<Endpoint[]>;
}
