import type { Sql } from './sql.js';

/*
 * Leases expire by wall-clock time stored in the file (`expires_at`, ms since
 * the epoch), so a lease of a process that died expires for whichever process
 * looks next, even one started later.
 */

export function insertLease(sql: Sql, id: string, ttlMs: number, now: number): void {
  sql.run('INSERT INTO leases (id, ttl_ms, expires_at) VALUES (?, ?, ?)', [id, ttlMs, now + ttlMs]);
}

/** Pushes a live lease's expiry to now + ttl; false when it is gone or already expired. */
export function extendLease(sql: Sql, id: string, now: number): boolean {
  return (
    sql.run('UPDATE leases SET expires_at = ? + ttl_ms WHERE id = ? AND expires_at > ?', [
      now,
      id,
      now,
    ]).changes === 1
  );
}

export function isLeaseLive(sql: Sql, id: string, now: number): boolean {
  return sql.get('SELECT 1 FROM leases WHERE id = ? AND expires_at > ?', [id, now]) !== undefined;
}

/** Leases whose time is up, soonest first. */
export function dueLeases(sql: Sql, now: number): string[] {
  return sql
    .all<{ id: string }>('SELECT id FROM leases WHERE expires_at <= ? ORDER BY expires_at', [now])
    .map((row) => row.id);
}

export function nextLeaseExpiry(sql: Sql): number | undefined {
  return (
    sql.get<{ at: number | null }>('SELECT MIN(expires_at) AS at FROM leases')?.at ?? undefined
  );
}
