import type {
  InstanceArtifact,
  InstanceHandle,
  InstanceSpec,
  Mount,
  OwnerLabels,
  Runtime,
} from '../runtime/index.js';

/** What each attempt runs: an InstanceSpec without the parts made per attempt. */
export interface JobSpec {
  /** Ownership labels; `instance` is set per attempt. */
  readonly labels: Omit<OwnerLabels, 'instance'>;
  readonly artifact: InstanceArtifact;
  readonly command?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** In PORT; a job usually listens on nothing (default 0). */
  readonly port?: number;
  readonly limits?: InstanceSpec['limits'];
  readonly mounts?: readonly Mount[];
}

/** The wait before attempt n+1 is `initialMs * factor^(n-1)`, at most `maxMs`. */
export interface Backoff {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
}

export interface RunJobOptions {
  readonly runtime: Runtime;
  readonly spec: JobSpec;
  /** Attempts after the first when one fails or times out (the resource's `retries`). */
  readonly retries: number;
  /** The time limit of each attempt, from its start; none by default. */
  readonly timeoutMs?: number;
  /** From SIGTERM to SIGKILL when an attempt is stopped early (default 10 s). */
  readonly graceMs?: number;
  readonly backoff?: Partial<Backoff>;
  /** Cancels the run: the attempt going is stopped, no other starts. */
  readonly signal?: AbortSignal;
  readonly onAttempt?: (event: AttemptEvent) => void;
  /** How often `runtime.list()` is asked, in case an exit event is missed (default 5 s). */
  readonly pollMs?: number;
  /** Prefix of instance ids (default: the service label, i.e. the job's name). */
  readonly name?: string;
  /**
   * Mounts made for one attempt's instance, before it starts (configs and
   * secrets written for that instance only); added to `spec.mounts`.
   */
  readonly mounts?: (instance: string) => Promise<readonly Mount[]>;
  /**
   * Removes what `mounts` made, once the attempt's instance is stopped and
   * removed, or did not start.
   */
  readonly unmount?: (instance: string) => Promise<void>;
}

export type JobStatus = 'succeeded' | 'failed' | 'timeout' | 'cancelled';

/** One instance run to its end. */
export interface JobAttempt {
  /** 1 for the first attempt. */
  readonly number: number;
  readonly instance: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Stopped at the time limit. */
  readonly timedOut: boolean;
  /** Stopped because the run was cancelled. */
  readonly cancelled: boolean;
  readonly oomKilled?: boolean;
  /** What the runtime said about an exit it could not fully observe. */
  readonly note?: string;
  /** Why the instance did not start (the attempt counts as failed). */
  readonly error?: string;
}

export type AttemptEvent =
  | {
      readonly type: 'started';
      readonly number: number;
      readonly instance: string;
      readonly handle: InstanceHandle;
    }
  | {
      readonly type: 'finished';
      readonly attempt: JobAttempt;
      /** Set when another attempt follows, after this wait. */
      readonly retryInMs?: number;
    };

export interface JobResult {
  /** The outcome of the last attempt ('cancelled' also when cancelled between attempts). */
  readonly status: JobStatus;
  readonly attempts: readonly JobAttempt[];
}
