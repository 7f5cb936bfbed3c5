import { LeaseNotFoundError } from '../errors.js';
import type { KeyValue } from '../store.js';

import { isLeaseLive } from './leases.js';
import { currentRows } from './reads.js';
import type { KeySelector, KvRow, Sql } from './sql.js';
import { keyClause, toKeyValue } from './sql.js';

/**
 * The writes of one SQLite transaction. Every change it makes shares one new
 * revision (etcd's rule for a transaction), taken only once something changes:
 * a delete that matches nothing leaves the revision alone. Reads through the
 * batch see its own earlier writes.
 */
export class WriteBatch {
  readonly #sql: Sql;
  readonly #now: number;
  readonly #base: number;
  /** Position of the next change within the revision; > 0 once anything changed. */
  #sub = 0;

  constructor(sql: Sql, now: number) {
    this.#sql = sql;
    this.#now = now;
    this.#base = sql.meta().revision;
  }

  get wrote(): boolean {
    return this.#sub > 0;
  }

  /** The store revision after this batch. */
  get revision(): number {
    return this.wrote ? this.#base + 1 : this.#base;
  }

  get(key: string): KeyValue | undefined {
    const [row] = currentRows(this.#sql, { kind: 'key', key });
    return row === undefined ? undefined : toKeyValue(row);
  }

  range(selector: KeySelector): KeyValue[] {
    return currentRows(this.#sql, selector).map(toKeyValue);
  }

  /** Returns the previous value, if any. */
  put(key: string, value: string, lease?: string): KeyValue | undefined {
    if (lease !== undefined && !isLeaseLive(this.#sql, lease, this.#now)) {
      throw new LeaseNotFoundError(lease);
    }
    const [prev] = currentRows(this.#sql, { kind: 'key', key });
    const revision = this.#base + 1;
    const row: KvRow = {
      key,
      value,
      create_revision: prev?.create_revision ?? revision,
      mod_revision: revision,
      version: (prev?.version ?? 0) + 1,
      lease: lease ?? null,
    };
    this.#sql.run(
      `INSERT OR REPLACE INTO kv (key, value, create_revision, mod_revision, version, lease)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [row.key, row.value, row.create_revision, row.mod_revision, row.version, row.lease],
    );
    this.#record('put', row);
    return prev === undefined ? undefined : toKeyValue(prev);
  }

  /** Deletes the selected keys; returns them in key order. */
  delete(selector: KeySelector): KeyValue[] {
    const rows = currentRows(this.#sql, selector);
    if (rows.length > 0) {
      const [where, params] = keyClause('key', selector);
      this.#sql.run(`DELETE FROM kv WHERE ${where}`, params);
      this.#recordDeletes(rows);
    }
    return rows.map(toKeyValue);
  }

  /** Deletes the lease and every key attached to it; a no-op when it is gone. */
  revokeLease(id: string): KeyValue[] {
    const rows = this.#sql.all<KvRow>(
      `SELECT key, value, create_revision, mod_revision, version, lease
         FROM kv WHERE lease = ? ORDER BY key`,
      [id],
    );
    this.#sql.run('DELETE FROM kv WHERE lease = ?', [id]);
    this.#sql.run('DELETE FROM leases WHERE id = ?', [id]);
    this.#recordDeletes(rows);
    return rows.map(toKeyValue);
  }

  /** Stores the new revision when anything changed; returns the store revision. */
  finish(): number {
    if (this.wrote) {
      this.#sql.run('UPDATE meta SET revision = ? WHERE id = 1', [this.revision]);
    }
    return this.revision;
  }

  #recordDeletes(rows: readonly KvRow[]): void {
    for (const row of rows) {
      this.#record('delete', {
        key: row.key,
        value: '',
        create_revision: 0,
        mod_revision: this.#base + 1,
        version: 0,
        lease: null,
      });
    }
  }

  #record(type: 'put' | 'delete', row: KvRow): void {
    this.#sql.run(
      `INSERT INTO history (revision, sub, key, type, value, create_revision, version, lease)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        this.#base + 1,
        this.#sub,
        row.key,
        type,
        row.value,
        row.create_revision,
        row.version,
        row.lease,
      ],
    );
    this.#sub += 1;
  }
}
