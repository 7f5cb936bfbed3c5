import { CompactedError, FutureRevisionError } from '../errors.js';
import type { KeyValue, WatchBatch, WatchEvent } from '../store.js';

import type { HistoryRow, KeySelector, KvRow, Sql } from './sql.js';
import { keyClause, toKeyValue } from './sql.js';

/** Rows read per step, so a watcher far behind never loads its whole backlog at once. */
const maxRowsPerChunk = 1000;

export interface FeedChunk {
  readonly batches: WatchBatch[];
  /** The revision to read from next time. */
  readonly next: number;
  /** True when the chunk reached the current revision (time to wait for news). */
  readonly caughtUp: boolean;
}

/**
 * The next changes for a watcher from the history table: batches at revisions
 * `from` and later, up to the current revision, each complete. Watchers pull
 * from history rather than having events pushed into a buffer, so a slow
 * consumer costs no memory and cannot miss anything; the only way to lose its
 * place is compaction, which it sees as CompactedError.
 */
export function readFeed(sql: Sql, selector: KeySelector, from: number): FeedChunk {
  const meta = sql.meta();
  if (from < meta.compacted) {
    throw new CompactedError(from, meta.compacted);
  }
  if (from > meta.revision + 1) {
    throw new FutureRevisionError(from, meta.revision);
  }
  if (from > meta.revision) {
    return { batches: [], next: from, caughtUp: true };
  }
  const [where, params] = keyClause('key', selector);
  const select = `SELECT revision, sub, key, type, value, create_revision, version, lease
                    FROM history WHERE ${where}`;
  let rows = sql.all<HistoryRow>(
    `${select} AND revision >= ? AND revision <= ? ORDER BY revision, sub LIMIT ?`,
    [...params, from, meta.revision, maxRowsPerChunk + 1],
  );
  const overflow = rows[maxRowsPerChunk];
  if (overflow === undefined) {
    return { batches: toBatches(sql, rows), next: meta.revision + 1, caughtUp: true };
  }
  // The last revision read may be cut short: deliver only whole revisions.
  const last = overflow.revision;
  if (rows[0]?.revision === last) {
    // One revision larger than a chunk (a big deletePrefix) still goes out whole.
    rows = sql.all<HistoryRow>(`${select} AND revision = ? ORDER BY sub`, [...params, last]);
    return { batches: toBatches(sql, rows), next: last + 1, caughtUp: false };
  }
  rows = rows.filter((row) => row.revision < last);
  return { batches: toBatches(sql, rows), next: last, caughtUp: false };
}

function toBatches(sql: Sql, rows: readonly HistoryRow[]): WatchBatch[] {
  const batches: WatchBatch[] = [];
  let batch: WatchBatch | undefined;
  for (const row of rows) {
    if (batch?.revision !== row.revision) {
      batch = { revision: row.revision, events: [] };
      batches.push(batch);
    }
    batch.events.push(toEvent(row, previous(sql, row)));
  }
  return batches;
}

function toEvent(row: HistoryRow, prev: KeyValue | undefined): WatchEvent {
  const kv =
    row.type === 'put'
      ? toKeyValue({ ...row, mod_revision: row.revision })
      : { key: row.key, value: '', createRevision: 0, modRevision: row.revision, version: 0 };
  return prev === undefined ? { type: row.type, kv } : { type: row.type, kv, prev };
}

/**
 * The key before this change. Compaction keeps it: it is either at or after
 * the compaction point, or the key's newest row before it (see compaction.ts).
 */
function previous(sql: Sql, row: HistoryRow): KeyValue | undefined {
  const prev = sql.get<KvRow & { type: HistoryRow['type'] }>(
    `SELECT key, type, value, create_revision, revision AS mod_revision, version, lease
       FROM history WHERE key = ? AND revision < ? ORDER BY revision DESC LIMIT 1`,
    [row.key, row.revision],
  );
  return prev?.type === 'put' ? toKeyValue(prev) : undefined;
}
