import { describe, expect, it } from 'vitest';

import { CompactedError } from '../errors.js';

import type { ContractContext } from './helpers.case.js';
import { readBatches } from './helpers.case.js';

export function durabilityCases(ctx: ContractContext): void {
  describe('durability', () => {
    it('keeps keys, revisions, history, compaction and leases across a reopen', async (test) => {
      const { store, fixture } = ctx;
      if (fixture.reopen === undefined) {
        test.skip();
        return;
      }
      const lease = await store.grantLease(60_000);
      const first = await store.put('p/a', '1');
      await store.put('p/b', '1', { lease: lease.id });
      await store.put('p/a', '2');
      await store.txn({
        compare: [],
        success: [
          { type: 'put', key: 'p/c', value: '1' },
          { type: 'delete', key: 'p/a' },
        ],
      });
      await store.compact(first.revision + 1);
      const before = await store.range('');
      await store.close();

      const again = await fixture.reopen();
      expect(await again.range('')).toEqual(before);
      expect(await again.revision()).toBe(before.revision);
      expect((await again.get('p/b'))?.lease).toBe(lease.id);
      await expect(again.get('p/a', { revision: first.revision })).rejects.toBeInstanceOf(
        CompactedError,
      );
      expect((await again.get('p/a', { revision: first.revision + 2 }))?.value).toBe('2');

      const watch = readBatches(again, 'p/', { fromRevision: first.revision + 1 });
      const replayed = await watch.take(3);
      expect(replayed.map((batch) => batch.revision)).toEqual([
        first.revision + 1,
        first.revision + 2,
        first.revision + 3,
      ]);
      const next = await again.put('p/d', '1');
      expect(next.revision).toBe(before.revision + 1);
      expect((await watch.take(1))[0]?.revision).toBe(next.revision);
      await watch.stop();
    });
  });
}
