import { describe, expect, it } from 'vitest';

import { CompactedError, FutureRevisionError } from '../errors.js';

import type { ContractContext } from './helpers.case.js';
import { readBatches } from './helpers.case.js';

export function compactionCases(ctx: ContractContext): void {
  describe('compaction', () => {
    it('keeps revisions from the compaction point readable and refuses older ones', async () => {
      const { store } = ctx;
      const a1 = await store.put('c/a', '1');
      await store.put('c/b', '1');
      const a2 = await store.put('c/a', '2');
      const bGone = await store.delete('c/b');
      const c1 = await store.put('c/c', '1');
      await store.put('c/a', '3');
      await store.compact(bGone.revision);

      // Keys last written before the compaction point still read at it.
      expect((await store.range('c/', { revision: bGone.revision })).kvs).toEqual([
        {
          key: 'c/a',
          value: '2',
          createRevision: a1.revision,
          modRevision: a2.revision,
          version: 2,
        },
      ]);
      expect(
        (await store.range('c/', { revision: c1.revision })).kvs.map((kv) => [kv.key, kv.value]),
      ).toEqual([
        ['c/a', '2'],
        ['c/c', '1'],
      ]);
      const error = await store.range('c/', { revision: a2.revision }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CompactedError);
      expect(error).toMatchObject({
        requested: a2.revision,
        compacted: bGone.revision,
        code: 'STORE_COMPACTED',
      });
      await expect(store.get('c/a', { revision: a1.revision })).rejects.toBeInstanceOf(
        CompactedError,
      );
      expect((await store.get('c/a'))?.value).toBe('3');
    });

    it('watches from the compaction point, but not from before it', async () => {
      const { store } = ctx;
      await store.put('c/b', '1');
      const from = (await store.put('c/a', '1')).revision;
      const bGone = await store.delete('c/b');
      await store.compact(bGone.revision);
      const next = await store.put('c/a', '2');

      const watch = readBatches(store, 'c/', { fromRevision: bGone.revision });
      const [deletion, update] = await watch.take(2);
      expect(deletion).toMatchObject({
        revision: bGone.revision,
        events: [{ type: 'delete', kv: { key: 'c/b' }, prev: { key: 'c/b', value: '1' } }],
      });
      expect(update).toMatchObject({
        revision: next.revision,
        events: [{ type: 'put', kv: { value: '2' }, prev: { value: '1', modRevision: from } }],
      });
      await watch.stop();

      const early = store.watch('c/', { fromRevision: from })[Symbol.asyncIterator]();
      const error = await early.next().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CompactedError);
      expect(error).toMatchObject({ requested: from, compacted: bGone.revision });
    });

    it('refuses to compact beyond the current revision or below an earlier compaction', async () => {
      const { store } = ctx;
      await store.put('a', '1');
      const middle = (await store.put('a', '2')).revision;
      await store.put('a', '3');
      const current = await store.revision();
      await expect(store.compact(current + 1)).rejects.toBeInstanceOf(FutureRevisionError);
      await store.compact(middle);
      await expect(store.compact(middle - 1)).rejects.toBeInstanceOf(CompactedError);
      await store.compact(current);
      expect(await store.revision()).toBe(current);
      expect((await store.get('a', { revision: current }))?.value).toBe('3');
    });
  });
}
