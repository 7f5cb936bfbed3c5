import type { Registry } from '../../registry/index.js';
import type { PortAllocator, Runtime, RuntimeKind } from '../../runtime/index.js';
import type { Mount } from '../../runtime/index.js';
import type { InstanceArtifact } from '../../runtime/index.js';
import type { ServiceProperties } from '../../template/index.js';
import type { NewEvent } from '../events.js';
import type { DeploymentBook, InstanceBook, InstanceRecord } from '../state.js';
import type { TrafficSwitch } from '../traffic.js';
import type { Actor } from '../types.js';

/** One service as it should run: a revision and its properties (secrets in clear, in memory only). */
export interface ServiceTarget {
  readonly stack: string;
  /** Qualified service name. */
  readonly service: string;
  readonly revision: string;
  readonly props: ServiceProperties;
  readonly artifact: InstanceArtifact;
  readonly who: Actor;
}

export interface DeployOptions {
  /** How long an instance may take to become healthy, beyond its start period. */
  readonly readyTimeoutMs: number;
  /** How long a leaving instance may finish its requests. */
  readonly drainTimeoutMs: number;
}

export interface DeployContext {
  readonly runtime: (kind: RuntimeKind) => Promise<Runtime>;
  readonly ports: PortAllocator;
  readonly instances: InstanceBook;
  readonly deployments: DeploymentBook;
  readonly registry: Registry;
  readonly traffic: TrafficSwitch;
  /** Host paths the instance's volumes, configs and secrets appear at. */
  mounts(target: ServiceTarget, instance: string): Promise<Mount[]>;
  /** Undoes mounts() once the instance is gone (e.g. removes secret files). */
  unmount(instance: string): Promise<void>;
  /** The instance passed its health check: its fingerprint is taken as the baseline for drift. */
  ready(record: InstanceRecord): Promise<void>;
  progress(event: NewEvent): void;
  /** Test hook: a named point where a crash can be injected. */
  failpoint(name: string): void;
  readonly options: DeployOptions;
}
