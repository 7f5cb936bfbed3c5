/**
 * The Store contract: a key-value store with etcd's semantics, so that the
 * embedded SQLite backend and an etcd cluster are interchangeable and every
 * watcher (proxy, renderer, dashboard) sees the same ordered history.
 *
 * Vocabulary (as in etcd):
 * - revision: a store-wide counter, incremented once per successful write
 *   (put, delete or transaction with at least one write). A fresh store is at
 *   revision 1 with no keys, so the first write makes revision 2.
 * - createRevision / modRevision: the revision that created / last changed a key.
 * - version: how many times a key was written since it was (re)created; 0 = absent.
 * - lease: a time-to-live handle; keys attached to a lease are deleted when it
 *   expires or is revoked.
 * - compaction: forgetting history older than a revision; reads and watches
 *   before it fail with CompactedError.
 *
 * Keys are non-empty, well-formed Unicode strings (no lone surrogates) and sort
 * by their UTF-8 bytes (see `compareKeys`), which is code point order, not the
 * UTF-16 order of JavaScript's `<`. Any argument breaking a rule written here
 * fails with InvalidArgumentError.
 */

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** Lease id the key is attached to, if any. */
  readonly lease?: string;
}

export interface RangeOptions {
  /**
   * Read as of an earlier revision (a positive integer; fails with CompactedError
   * when compacted and FutureRevisionError when it does not exist yet).
   */
  readonly revision?: number;
  /** At most this many keys (a positive integer); omitted = all. */
  readonly limit?: number;
}

export interface RangeResult {
  /** Keys in ascending byte order. */
  readonly kvs: KeyValue[];
  /**
   * The revision the read reflects: `options.revision` when given, else the
   * current one. Watching from `revision + 1` continues exactly where it left off.
   */
  readonly revision: number;
  /** True when `limit` cut the result short. */
  readonly more: boolean;
}

export interface PutOptions {
  /** Attach the key to this lease; a put without it detaches the key from any lease. */
  readonly lease?: string;
}

export interface PutResult {
  readonly revision: number;
  readonly prev?: KeyValue;
}

export interface DeleteResult {
  /** The new revision, or the unchanged current one when nothing was deleted. */
  readonly revision: number;
  readonly deleted: number;
  /** The deleted keys, in key order. */
  readonly prev: KeyValue[];
}

export type CompareTarget = 'value' | 'version' | 'createRevision' | 'modRevision' | 'lease';

/**
 * One condition of a transaction. `value` and `lease` take a string and compare
 * in byte order; the other targets take an integer. An absent key has version 0,
 * revisions 0 and lease '', and (as in etcd) no comparison of its value holds:
 * test `version = 0` for absence.
 */
export interface Compare {
  readonly key: string;
  readonly target: CompareTarget;
  readonly op: '=' | '!=' | '<' | '>';
  readonly value: string | number;
}

export type TxnOp =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly lease?: string }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'deletePrefix'; readonly prefix: string }
  | { readonly type: 'get'; readonly key: string }
  | { readonly type: 'range'; readonly prefix: string };

export type TxnOpResult =
  | { readonly type: 'put'; readonly prev?: KeyValue }
  | { readonly type: 'delete' | 'deletePrefix'; readonly deleted: number }
  | { readonly type: 'get'; readonly kv?: KeyValue }
  | { readonly type: 'range'; readonly kvs: KeyValue[] };

/**
 * Ops run in order and reads see the writes before them. As in etcd, a branch
 * may put a key at most once and may not put a key it also deletes.
 */
export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

export interface TxnResult {
  readonly succeeded: boolean;
  /** Store revision after the transaction (unchanged when it wrote nothing). */
  readonly revision: number;
  /** One result per op of the branch that ran, in order. */
  readonly results: TxnOpResult[];
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /**
   * For a delete: the key with value '', createRevision 0, version 0 and
   * modRevision = the deleting revision.
   */
  readonly kv: KeyValue;
  /** The key before this change, when it existed. */
  readonly prev?: KeyValue;
}

export interface WatchOptions {
  /**
   * Deliver every change with modRevision >= fromRevision first (history),
   * then live changes. Omitted: only changes after `watch()` was called.
   * Below the compaction point: CompactedError; beyond the next revision:
   * FutureRevisionError (both thrown by the iterator).
   */
  readonly fromRevision?: number;
  readonly signal?: AbortSignal;
}

/**
 * A batch of events that happened at one revision (a transaction's writes
 * arrive together, in the order they were made), in revision order, never
 * skipping or repeating one.
 */
export interface WatchBatch {
  readonly revision: number;
  readonly events: WatchEvent[];
}

export interface Lease {
  readonly id: string;
  readonly ttlMs: number;
  /** Pushes the expiry to now + ttl; fails with LeaseNotFoundError once expired. */
  keepAlive(): Promise<void>;
  /** Deletes every key attached to the lease (one revision); a no-op once it is gone. */
  revoke(): Promise<void>;
}

export interface Store {
  get(key: string, options?: RangeOptions): Promise<KeyValue | undefined>;
  /** Every key starting with `prefix` ('' = all keys). */
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;
  put(key: string, value: string, options?: PutOptions): Promise<PutResult>;
  delete(key: string): Promise<DeleteResult>;
  deletePrefix(prefix: string): Promise<DeleteResult>;
  /** Compare-and-swap: all compares hold → `success` ops, else `failure` ops, atomically. */
  txn(request: TxnRequest): Promise<TxnResult>;
  /**
   * Ordered changes under `prefix`; ends when the signal aborts or the store
   * closes. Errors (compaction, a closed store, bad arguments) are thrown by
   * the iterator. A consumer that falls so far behind that the history it
   * still needs is compacted gets CompactedError rather than a gap.
   */
  watch(prefix: string, options?: WatchOptions): AsyncIterable<WatchBatch>;
  /** A lease of `ttlMs` milliseconds (a positive integer). Granting is not a write. */
  grantLease(ttlMs: number): Promise<Lease>;
  /** The current store revision. */
  revision(): Promise<number>;
  /**
   * Forget history older than `revision`; watches and reads before it fail with
   * CompactedError. Compacting beyond the current revision fails with
   * FutureRevisionError, below an earlier compaction with CompactedError.
   */
  compact(revision: number): Promise<void>;
  /** Idempotent; ends every watch. Any later call fails with StoreClosedError. */
  close(): Promise<void>;
}
