import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { Database } from 'better-sqlite3';
import BetterSqlite3 from 'better-sqlite3';

import {
  CompactedError,
  FutureRevisionError,
  LeaseNotFoundError,
  StoreBackendError,
  StoreClosedError,
  StoreError,
} from '../errors.js';
import type {
  DeleteResult,
  KeyValue,
  Lease,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  Store,
  TxnRequest,
  TxnResult,
  WatchBatch,
  WatchOptions,
} from '../store.js';
import {
  assertKey,
  assertPositiveInteger,
  assertPrefix,
  assertRangeOptions,
  assertTxn,
  assertValue,
} from '../validate.js';

import { compactHistory } from './compaction.js';
import { LeaseTimer } from './lease-timer.js';
import { dueLeases, extendLease, insertLease, isLeaseLive, nextLeaseExpiry } from './leases.js';
import type { Settings, SqliteStoreOptions } from './options.js';
import { resolveSettings } from './options.js';
import { readKey, readRange } from './reads.js';
import { prepareDatabase } from './schema.js';
import type { KeySelector } from './sql.js';
import { keySelector, prefixSelector, Sql } from './sql.js';
import { applyOp, compareHolds } from './txn.js';
import type { FeedChunk } from './watch-feed.js';
import { readFeed } from './watch-feed.js';
import { WatchHub } from './watch-hub.js';
import { WriteBatch } from './write-batch.js';

export type { SqliteStoreOptions } from './options.js';

export interface SqliteStore extends Store {
  readonly path: string;
}

/** Opens (creating when missing) a store in one SQLite file. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const settings = resolveSettings(options);

  let db: Database | undefined;
  try {
    db = new BetterSqlite3(options.path, { timeout: settings.busyTimeoutMs });
    prepareDatabase(db);
    return new SqliteKvStore(options.path, db, settings);
  } catch (error) {
    db?.close();
    throw error instanceof StoreError
      ? error
      : new StoreBackendError(`cannot open store ${options.path}`, { cause: error });
  }
}

/** The store of one Drover home: `<home>/state.db`, the home made private (0700) when created. */
export function openDefaultStore(
  home: string,
  options: Omit<SqliteStoreOptions, 'path'> = {},
): SqliteStore {
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StoreBackendError(`cannot create ${home}`, { cause: error });
  }
  return openSqliteStore({ ...options, path: join(home, 'state.db') });
}

class SqliteKvStore implements SqliteStore {
  readonly path: string;
  readonly #sql: Sql;
  readonly #settings: Settings;
  #db: Database | undefined;
  readonly #watches: WatchHub;
  readonly #leaseTimer: LeaseTimer;

  constructor(path: string, db: Database, settings: Settings) {
    this.path = path;
    this.#db = db;
    this.#sql = new Sql(db);
    this.#settings = settings;
    this.#watches = new WatchHub({
      pollIntervalMs: settings.pollIntervalMs,
      isOpen: () => this.#db !== undefined,
      dataVersion: () => db.pragma('data_version', { simple: true }),
    });
    this.#leaseTimer = new LeaseTimer({
      intervalMs: settings.leaseCheckIntervalMs,
      expireDue: () => this.#expireDueLeases(),
      nextExpiry: () => this.#transact('deferred', (sql) => nextLeaseExpiry(sql)),
      onError: settings.onBackgroundError,
    });
    // Leases of processes that died while no store was open expire now.
    this.#expireDueLeases();
    this.#leaseTimer.schedule();
  }

  async get(key: string, options?: RangeOptions): Promise<KeyValue | undefined> {
    assertKey(key);
    assertRangeOptions(options);
    return this.#transact('deferred', (sql) => readKey(sql, key, options?.revision));
  }

  async range(prefix: string, options?: RangeOptions): Promise<RangeResult> {
    assertPrefix(prefix);
    assertRangeOptions(options);
    return this.#transact('deferred', (sql) => readRange(sql, prefixSelector(prefix), options));
  }

  async put(key: string, value: string, options?: PutOptions): Promise<PutResult> {
    assertKey(key);
    assertValue(value);
    if (options?.lease !== undefined) {
      assertKey(options.lease, 'lease');
    }
    const { result: prev, revision } = this.#write((batch) =>
      batch.put(key, value, options?.lease),
    );
    return prev === undefined ? { revision } : { revision, prev };
  }

  async delete(key: string): Promise<DeleteResult> {
    assertKey(key);
    return this.#delete(keySelector(key));
  }

  async deletePrefix(prefix: string): Promise<DeleteResult> {
    assertPrefix(prefix);
    return this.#delete(prefixSelector(prefix));
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    assertTxn(request);
    const { result, revision } = this.#write((batch) => {
      const succeeded = request.compare.every((compare) =>
        compareHolds(batch.get(compare.key), compare),
      );
      const ops = succeeded ? request.success : (request.failure ?? []);
      return { succeeded, results: ops.map((op) => applyOp(batch, op)) };
    });
    return { ...result, revision };
  }

  watch(prefix: string, options: WatchOptions = {}): AsyncIterable<WatchBatch> {
    // The starting revision is fixed now, not at the first next(), so that a
    // write right after watch() is delivered even if iteration starts later.
    let start: number | StoreError;
    try {
      assertPrefix(prefix);
      if (options.fromRevision !== undefined) {
        assertPositiveInteger(options.fromRevision, 'fromRevision');
      }
      start = options.fromRevision ?? this.#transact('deferred', (sql) => sql.meta().revision) + 1;
    } catch (error) {
      if (!(error instanceof StoreError)) {
        throw error;
      }
      start = error;
    }
    return this.#follow(prefixSelector(prefix), start, options.signal);
  }

  async *#follow(
    selector: KeySelector,
    start: number | StoreError,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<WatchBatch> {
    if (typeof start !== 'number') {
      throw start;
    }
    const readChunk = (from: number): FeedChunk =>
      this.#transact('deferred', (sql) => readFeed(sql, selector, from));
    yield* this.#watches.follow(start, readChunk, signal);
  }

  async grantLease(ttlMs: number): Promise<Lease> {
    assertPositiveInteger(ttlMs, 'ttlMs');
    const id = randomBytes(8).toString('hex');
    this.#transact('immediate', (sql) => insertLease(sql, id, ttlMs, Date.now()));
    this.#leaseTimer.schedule(ttlMs);
    return {
      id,
      ttlMs,
      keepAlive: async () => {
        if (!this.#transact('immediate', (sql) => extendLease(sql, id, Date.now()))) {
          throw new LeaseNotFoundError(id);
        }
      },
      revoke: async () => {
        this.#write((batch) => batch.revokeLease(id));
      },
    };
  }

  async revision(): Promise<number> {
    return this.#transact('deferred', (sql) => sql.meta().revision);
  }

  async compact(revision: number): Promise<void> {
    assertPositiveInteger(revision, 'revision');
    this.#transact('immediate', (sql) => {
      const meta = sql.meta();
      if (revision > meta.revision) {
        throw new FutureRevisionError(revision, meta.revision);
      }
      if (revision < meta.compacted) {
        throw new CompactedError(revision, meta.compacted);
      }
      compactHistory(sql, revision);
    });
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (db === undefined) {
      return;
    }
    this.#db = undefined;
    this.#leaseTimer.close();
    this.#watches.close();
    try {
      db.close();
    } catch (error) {
      throw new StoreBackendError(`cannot close store ${this.path}`, { cause: error });
    }
  }

  #delete(selector: KeySelector): DeleteResult {
    const { result: prev, revision } = this.#write((batch) => batch.delete(selector));
    return { revision, deleted: prev.length, prev };
  }

  /** Runs `work` in one SQLite transaction; IMMEDIATE takes the write lock up front. */
  #transact<T>(mode: 'deferred' | 'immediate', work: (sql: Sql) => T): T {
    const db = this.#db;
    if (db === undefined) {
      throw new StoreClosedError();
    }
    try {
      return db.transaction(() => work(this.#sql))[mode]();
    } catch (error) {
      if (error instanceof BetterSqlite3.SqliteError) {
        throw new StoreBackendError(`sqlite ${this.path}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  /** One write transaction = at most one new revision; watchers hear of it at once. */
  #write<T>(apply: (batch: WriteBatch) => T): { result: T; revision: number } {
    const outcome = this.#transact('immediate', (sql) => {
      const batch = new WriteBatch(sql, Date.now());
      const result = apply(batch);
      const revision = batch.finish();
      if (batch.wrote) {
        this.#compactOldHistory(sql, revision);
      }
      return { result, revision, wrote: batch.wrote };
    });
    if (outcome.wrote) {
      this.#watches.wakeAll();
    }
    return outcome;
  }

  /** Keeps history to `historyLimit` revisions, compacting in steps to spread the cost. */
  #compactOldHistory(sql: Sql, revision: number): void {
    const limit = this.#settings.historyLimit;
    if (limit === Infinity) {
      return;
    }
    const target = revision - limit + 1;
    if (target - sql.meta().compacted >= Math.max(1, Math.floor(limit / 10))) {
      compactHistory(sql, target);
    }
  }

  /** Each expired lease is revoked in its own write, as etcd revokes them one by one. */
  #expireDueLeases(): void {
    const due = this.#transact('deferred', (sql) => dueLeases(sql, Date.now()));
    for (const id of due) {
      // Checked again under the write lock: another process may have renewed it.
      this.#write((batch) => {
        if (!isLeaseLive(this.#sql, id, Date.now())) {
          batch.revokeLease(id);
        }
      });
    }
  }
}
