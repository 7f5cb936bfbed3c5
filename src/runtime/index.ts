export type { DockerRuntimeOptions } from './docker/index.js';
export { createDockerRuntime } from './docker/index.js';
export {
  PortsExhaustedError,
  RuntimeError,
  RuntimeUnavailableError,
  StartError,
} from './errors.js';
export type { HealthCheckSpec, HealthResult, HealthState } from './health.js';
export { HealthMonitor, probeFor } from './health.js';
export type { PortRange } from './ports.js';
export { DEFAULT_PORT_RANGE, PortAllocator, portIsFree } from './ports.js';
export type { ProcessRuntimeOptions, SnapshotSource } from './process/runtime.js';
export { createProcessRuntime, ProcessRuntime } from './process/runtime.js';
export type {
  BuildRequest,
  ExecResult,
  ExitStatus,
  Fingerprint,
  InstanceArtifact,
  InstanceHandle,
  InstanceSpec,
  LogLine,
  LogOptions,
  Mount,
  ObservedInstance,
  OwnerLabels,
  Runtime,
  RuntimeEvent,
  RuntimeFactory,
  RuntimeKind,
  RuntimeOptions,
} from './runtime.js';
export { describeExit } from './runtime.js';
