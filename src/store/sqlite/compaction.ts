import type { Sql } from './sql.js';

/**
 * Forgets history before `target` while keeping every revision from `target`
 * on readable. Below `target` that needs, per key, only its newest row, and
 * only when it is a put (a key whose newest change is a delete was absent).
 * Rows at `target` and after stay whole, for watches from `target`.
 *
 * Only keys changed since the previous compaction can hold rows that became
 * obsolete: older rows are already one put per key. So the work is bounded by
 * the changes compacted away, not by the size of the store.
 */
export function compactHistory(sql: Sql, target: number): void {
  const { compacted } = sql.meta();
  if (target <= compacted) {
    return;
  }
  sql.run(
    `DELETE FROM history
      WHERE revision < ?
        AND key IN (SELECT key FROM history WHERE revision >= ? AND revision < ?)
        AND (type = 'delete'
             OR EXISTS (SELECT 1 FROM history AS later
                         WHERE later.key = history.key
                           AND later.revision > history.revision
                           AND later.revision < ?))`,
    [target, compacted, target, target],
  );
  sql.run('UPDATE meta SET compacted = ? WHERE id = 1', [target]);
}
