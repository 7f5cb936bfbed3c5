import { DroverError } from '../errors.js';

/** Base class of every store failure; `code` is stable and machine-readable. */
export class StoreError extends DroverError {}

/**
 * A read or watch asked for a revision that compaction already removed.
 * `compacted` is the oldest revision still readable: restart a watch from there
 * after re-reading the state (as with etcd's `compact_revision`).
 */
export class CompactedError extends StoreError {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(
      'STORE_COMPACTED',
      `revision ${requested} is compacted (the oldest readable revision is ${compacted})`,
    );
  }
}

/** The revision asked for does not exist yet. */
export class FutureRevisionError extends StoreError {
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super('STORE_FUTURE_REVISION', `revision ${requested} is newer than the store (${current})`);
  }
}

export class LeaseNotFoundError extends StoreError {
  constructor(readonly lease: string) {
    super('STORE_LEASE_NOT_FOUND', `lease ${lease} does not exist or has expired`);
  }
}

export class StoreClosedError extends StoreError {
  constructor() {
    super('STORE_CLOSED', 'the store is closed');
  }
}

/**
 * The caller broke a rule of the contract (empty key, revision 0, a transaction
 * writing one key twice…); retrying the same call can never succeed.
 */
export class InvalidArgumentError extends StoreError {
  constructor(message: string) {
    super('STORE_INVALID_ARGUMENT', message);
  }
}

/** The storage engine itself failed (I/O, corruption, lock timeout); `cause` has its error. */
export class StoreBackendError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_BACKEND', message, options);
  }
}
