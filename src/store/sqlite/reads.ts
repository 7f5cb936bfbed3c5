import { CompactedError, FutureRevisionError } from '../errors.js';
import type { KeyValue, RangeOptions, RangeResult } from '../store.js';

import type { KeySelector, KvRow, Sql } from './sql.js';
import { keyClause, toKeyValue } from './sql.js';

/*
 * Reads run inside one read transaction (see SqliteStore), so the meta row and
 * the rows agree even while another process writes or compacts.
 */

/** Fails unless `revision` is between the compaction point and the current revision. */
export function assertReadable(sql: Sql, revision: number): void {
  const meta = sql.meta();
  if (revision > meta.revision) {
    throw new FutureRevisionError(revision, meta.revision);
  }
  if (revision < meta.compacted) {
    throw new CompactedError(revision, meta.compacted);
  }
}

export function readRange(
  sql: Sql,
  selector: KeySelector,
  options: RangeOptions = {},
): RangeResult {
  const current = sql.meta().revision;
  const revision = options.revision ?? current;
  if (revision !== current) {
    assertReadable(sql, revision);
  }
  // One row more than asked tells whether the limit cut the result short.
  const limit = options.limit === undefined ? -1 : options.limit + 1;
  const rows =
    revision === current
      ? currentRows(sql, selector, limit)
      : rowsAtRevision(sql, selector, revision, limit);
  const more = options.limit !== undefined && rows.length > options.limit;
  const kept = more ? rows.slice(0, options.limit) : rows;
  return { kvs: kept.map(toKeyValue), revision, more };
}

export function readKey(sql: Sql, key: string, revision?: number): KeyValue | undefined {
  const [row] = readRange(
    sql,
    { kind: 'key', key },
    revision === undefined ? {} : { revision },
  ).kvs;
  return row;
}

/** Current rows, in key order; `limit` -1 = all. */
export function currentRows(sql: Sql, selector: KeySelector, limit = -1): KvRow[] {
  const [where, params] = keyClause('key', selector);
  return sql.all<KvRow>(
    `SELECT key, value, create_revision, mod_revision, version, lease
       FROM kv WHERE ${where} ORDER BY key LIMIT ?`,
    [...params, limit],
  );
}

/**
 * The state at an older revision: for each key its newest history row at or
 * before `revision`, when that row is a put. Compaction keeps exactly those
 * rows for every revision it leaves readable (see compaction.ts).
 */
function rowsAtRevision(sql: Sql, selector: KeySelector, revision: number, limit: number): KvRow[] {
  const [where, params] = keyClause('h.key', selector);
  return sql.all<KvRow>(
    `SELECT h.key, h.value, h.create_revision, h.revision AS mod_revision, h.version, h.lease
       FROM history AS h
      WHERE ${where} AND h.revision <= ? AND h.type = 'put'
        AND h.revision = (SELECT MAX(l.revision) FROM history AS l
                           WHERE l.key = h.key AND l.revision <= ?)
      ORDER BY h.key LIMIT ?`,
    [...params, revision, revision, limit],
  );
}
