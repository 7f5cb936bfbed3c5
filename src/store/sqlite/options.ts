import type { StoreError } from '../errors.js';
import { assertPositiveInteger } from '../validate.js';

export interface SqliteStoreOptions {
  /** The database file; created when missing (its directory must exist). */
  readonly path: string;
  /**
   * Revisions of history kept for watches and reads at older revisions; older
   * ones are compacted automatically (in steps of a tenth of the limit, so at
   * least this many stay readable). Default 10,000; Infinity keeps everything.
   */
  readonly historyLimit?: number;
  /** How long a write waits for another process's write to finish. Default 5,000 ms. */
  readonly busyTimeoutMs?: number;
  /** How often watchers look for writes by other processes. Default 25 ms. */
  readonly pollIntervalMs?: number;
  /**
   * Longest pause between lease expiry checks; the process's own leases are
   * checked when they are due, this bounds how late a lease granted by another
   * (perhaps dead) process expires. Default 500 ms.
   */
  readonly leaseCheckIntervalMs?: number;
  /**
   * Receives failures of the background lease expiry, which retries on its
   * next check. Default: `process.emitWarning`.
   */
  readonly onBackgroundError?: (error: StoreError) => void;
}

/** The options with their defaults filled in. */
export interface Settings {
  readonly historyLimit: number;
  readonly busyTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly leaseCheckIntervalMs: number;
  readonly onBackgroundError: (error: StoreError) => void;
}

export function resolveSettings(options: SqliteStoreOptions): Settings {
  const historyLimit = options.historyLimit ?? 10_000;
  if (historyLimit !== Infinity) {
    assertPositiveInteger(historyLimit, 'historyLimit');
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  assertPositiveInteger(busyTimeoutMs, 'busyTimeoutMs');
  const settings: Settings = {
    historyLimit,
    busyTimeoutMs,
    pollIntervalMs: options.pollIntervalMs ?? 25,
    leaseCheckIntervalMs: options.leaseCheckIntervalMs ?? 500,
    onBackgroundError: options.onBackgroundError ?? ((error) => process.emitWarning(error)),
  };
  assertPositiveInteger(settings.pollIntervalMs, 'pollIntervalMs');
  assertPositiveInteger(settings.leaseCheckIntervalMs, 'leaseCheckIntervalMs');
  return settings;
}
