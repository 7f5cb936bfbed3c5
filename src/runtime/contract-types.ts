import type { InstanceArtifact, Runtime } from './runtime.js';

/**
 * What a driver gives the shared contract suite: the runtime under test and
 * workloads expressed in its own terms (a node script for processes, a
 * busybox image for Docker). Every workload reads PORT from its environment.
 */
export interface ContractWorkloads {
  /**
   * An HTTP server on 127.0.0.1:$PORT: GET /healthz → 200 "ok";
   * GET /env/NAME → the value of environment variable NAME (404 if unset);
   * prints "started" on stdout and "ready" on stderr once listening;
   * exits 0 on SIGTERM.
   */
  readonly server: { readonly artifact: InstanceArtifact; readonly command?: readonly string[] };
  /** Exits at once with code 3. */
  readonly exitThree: { readonly artifact: InstanceArtifact; readonly command?: readonly string[] };
  /** Ignores SIGTERM and keeps running (to test the SIGKILL after the grace period). */
  readonly stubborn: { readonly artifact: InstanceArtifact; readonly command?: readonly string[] };
  /** Allocates memory without bound (to test memory limits). */
  readonly memoryHog: { readonly artifact: InstanceArtifact; readonly command?: readonly string[] };
}

export interface ContractSubject {
  readonly runtime: Runtime;
  readonly workloads: ContractWorkloads;
  /** A fresh runtime on the same home, as after a restart of Drover. */
  reopen(): Promise<Runtime>;
  /** Whether memory limits are enforced here (root with cgroups, or Docker). */
  readonly enforcesLimits: boolean;
  cleanup(): Promise<void>;
}
