/**
 * The Store contract: a key-value store with etcd's semantics, so that the
 * embedded SQLite backend and an etcd cluster are interchangeable and every
 * watcher (proxy, renderer, dashboard) sees the same ordered history.
 *
 * Vocabulary (as in etcd):
 * - revision: a store-wide counter, incremented once per successful write
 *   (put, delete or transaction with at least one write).
 * - createRevision / modRevision: the revision that created / last changed a key.
 * - version: how many times a key was written since it was (re)created; 0 = absent.
 * - lease: a time-to-live handle; keys attached to a lease are deleted when it
 *   expires or is revoked.
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
  /** Read as of an earlier revision (fails with CompactedError when compacted). */
  readonly revision?: number;
  readonly limit?: number;
}

export interface RangeResult {
  /** Keys in ascending byte order. */
  readonly kvs: KeyValue[];
  /** The store revision the read was served at. */
  readonly revision: number;
  /** True when `limit` cut the result short. */
  readonly more: boolean;
}

export interface PutOptions {
  readonly lease?: string;
}

export interface PutResult {
  readonly revision: number;
  readonly prev?: KeyValue;
}

export interface DeleteResult {
  readonly revision: number;
  readonly deleted: number;
  readonly prev: KeyValue[];
}

export type CompareTarget = 'value' | 'version' | 'createRevision' | 'modRevision' | 'lease';

/** One condition of a transaction; an absent key has version 0, revisions 0 and value ''. */
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

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

export interface TxnResult {
  readonly succeeded: boolean;
  /** Store revision after the transaction (unchanged when it wrote nothing). */
  readonly revision: number;
  readonly results: TxnOpResult[];
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /** For a delete: the key with value '' and modRevision = the deleting revision. */
  readonly kv: KeyValue;
  readonly prev?: KeyValue;
}

export interface WatchOptions {
  /**
   * Deliver every change with modRevision >= fromRevision first (history),
   * then live changes. Omitted: only changes after the watch started.
   */
  readonly fromRevision?: number;
  readonly signal?: AbortSignal;
}

/**
 * A batch of events that happened at one revision (a transaction's writes
 * arrive together), in revision order, never skipping or repeating one.
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
  /** Deletes every key attached to the lease. */
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
  /** Ordered changes under `prefix`; ends when the signal aborts or the store closes. */
  watch(prefix: string, options?: WatchOptions): AsyncIterable<WatchBatch>;
  grantLease(ttlMs: number): Promise<Lease>;
  /** The current store revision. */
  revision(): Promise<number>;
  /** Forget history older than `revision`; watches and reads before it fail with CompactedError. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
