/**
 * A second process for the multi-process tests (run with `node --import tsx`):
 *   child-writer.ts <db path> write <prefix> <count>   puts <prefix><i> = i, then closes
 *   child-writer.ts <db path> crash <key> <ttlMs>      puts <key> on a new lease, then
 *                                                       exits without closing or revoking
 * It prints one JSON line with what it did.
 */
import { openSqliteStore } from '../sqlite-store.js';

const [path, mode, name, amount] = process.argv.slice(2);
if (path === undefined || name === undefined || amount === undefined) {
  throw new Error('usage: child-writer.ts <db path> write|crash <prefix|key> <count|ttlMs>');
}
const store = openSqliteStore({ path });
if (mode === 'write') {
  const revisions: number[] = [];
  for (let i = 0; i < Number(amount); i++) {
    revisions.push((await store.put(`${name}${i}`, String(i))).revision);
  }
  await store.close();
  process.stdout.write(`${JSON.stringify({ revisions })}\n`);
} else if (mode === 'crash') {
  const lease = await store.grantLease(Number(amount));
  const { revision } = await store.put(name, 'from a process about to die', { lease: lease.id });
  process.stdout.write(`${JSON.stringify({ lease: lease.id, revision })}\n`);
  process.exit(0); // no close(), no revoke(): the lease must expire on its own
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
