import { describe, expect, it } from 'vitest';

import { FutureRevisionError, InvalidArgumentError, StoreClosedError } from '../errors.js';
import type { WatchBatch } from '../store.js';

import type { ContractContext } from './helpers.case.js';
import { readBatches } from './helpers.case.js';

/** [revision, type, key, value] of every event, for compact assertions. */
function flatten(batches: readonly WatchBatch[]): [number, string, string, string][] {
  return batches.flatMap((batch) =>
    batch.events.map((event): [number, string, string, string] => [
      batch.revision,
      event.type,
      event.kv.key,
      event.kv.value,
    ]),
  );
}

export function watchCases(ctx: ContractContext): void {
  describe('watch', () => {
    it('replays history from a revision, then delivers live changes', async () => {
      const { store } = ctx;
      const first = (await store.put('w/a', '1')).revision;
      await store.put('w/b', '1');
      await store.delete('w/a');
      const watch = readBatches(store, 'w/', { fromRevision: first });
      expect(flatten(await watch.take(3))).toEqual([
        [first, 'put', 'w/a', '1'],
        [first + 1, 'put', 'w/b', '1'],
        [first + 2, 'delete', 'w/a', ''],
      ]);
      await store.put('w/c', '1');
      await store.put('w/b', '2');
      expect(flatten(await watch.take(2))).toEqual([
        [first + 3, 'put', 'w/c', '1'],
        [first + 4, 'put', 'w/b', '2'],
      ]);
      await watch.stop();
    });

    it('without fromRevision delivers only changes after watch() was called', async () => {
      const { store } = ctx;
      await store.put('n/before', '1');
      const watch = readBatches(store, 'n/');
      const after = await store.put('n/after', '1');
      expect(flatten(await watch.take(1))).toEqual([[after.revision, 'put', 'n/after', '1']]);
      await watch.stop();
    });

    it('describes each change with the key before it', async () => {
      const { store } = ctx;
      const lease = await store.grantLease(60_000);
      const created = await store.put('e/k', '1', { lease: lease.id });
      const watch = readBatches(store, 'e/', { fromRevision: created.revision });
      const updated = await store.put('e/k', '2');
      const deleted = await store.delete('e/k');
      const recreated = await store.put('e/k', '3');
      const [put, update, remove, again] = await watch.take(4);
      const v1 = {
        key: 'e/k',
        value: '1',
        createRevision: created.revision,
        modRevision: created.revision,
        version: 1,
        lease: lease.id,
      };
      const v2 = {
        key: 'e/k',
        value: '2',
        createRevision: created.revision,
        modRevision: updated.revision,
        version: 2,
      };
      expect(put).toEqual({ revision: created.revision, events: [{ type: 'put', kv: v1 }] });
      expect(update).toEqual({
        revision: updated.revision,
        events: [{ type: 'put', kv: v2, prev: v1 }],
      });
      expect(remove).toEqual({
        revision: deleted.revision,
        events: [
          {
            type: 'delete',
            kv: {
              key: 'e/k',
              value: '',
              createRevision: 0,
              modRevision: deleted.revision,
              version: 0,
            },
            prev: v2,
          },
        ],
      });
      // The key was absent before it was created again: no prev.
      expect(again?.events).toEqual([
        {
          type: 'put',
          kv: {
            key: 'e/k',
            value: '3',
            createRevision: recreated.revision,
            modRevision: recreated.revision,
            version: 1,
          },
        },
      ]);
      await watch.stop();
    });

    it('delivers the writes of one transaction as one batch, in op order', async () => {
      const { store } = ctx;
      await store.put('b/x/2', '2');
      await store.put('b/x/1', '1');
      const watch = readBatches(store, 'b/');
      const { revision } = await store.txn({
        compare: [],
        success: [
          { type: 'put', key: 'b/z', value: 'z' },
          { type: 'deletePrefix', prefix: 'b/x/' },
          { type: 'put', key: 'b/a', value: 'a' },
        ],
      });
      const [batch] = await watch.take(1);
      expect(batch?.revision).toBe(revision);
      expect(flatten(batch === undefined ? [] : [batch])).toEqual([
        [revision, 'put', 'b/z', 'z'],
        [revision, 'delete', 'b/x/1', ''],
        [revision, 'delete', 'b/x/2', ''],
        [revision, 'put', 'b/a', 'a'],
      ]);
      expect(batch?.events[1]?.prev).toMatchObject({ key: 'b/x/1', value: '1' });
      await watch.stop();
    });

    it('only sees keys under its prefix', async () => {
      const { store } = ctx;
      const watch = readBatches(store, 'mine/');
      await store.put('other/x', '1');
      await store.put('mine', 'no slash');
      await store.txn({
        compare: [],
        success: [
          { type: 'put', key: 'other/y', value: '1' },
          { type: 'put', key: 'mine/y', value: '1' },
        ],
      });
      await store.put('minf/x', '1');
      const last = await store.put('mine/x', '1');
      // Had any other key leaked through, it would come before these.
      const batches = await watch.take(2);
      expect(flatten(batches)).toEqual([
        [last.revision - 2, 'put', 'mine/y', '1'],
        [last.revision, 'put', 'mine/x', '1'],
      ]);
      await watch.stop();
    });

    it('delivers every revision once and in order while writers race', async () => {
      const { store } = ctx;
      const start = await store.revision();
      const watchAll = readBatches(store, '');
      const watchOne = readBatches(store, 'race/2/');
      const writer = async (id: number): Promise<void> => {
        for (let i = 0; i < 25; i++) {
          if (i % 5 === 4) {
            await store.txn({
              compare: [],
              success: [
                { type: 'put', key: `race/${id}/txn`, value: String(i) },
                { type: 'delete', key: `race/${id}/${i - 1}` },
              ],
            });
          } else {
            await store.put(`race/${id}/${i}`, String(i));
          }
        }
      };
      await Promise.all([writer(1), writer(2), writer(3), writer(4)]);
      const batches = await watchAll.take(100);
      expect(batches.map((batch) => batch.revision)).toEqual(
        Array.from({ length: 100 }, (_, i) => start + 1 + i),
      );
      // Replaying the events gives the store's final state.
      const state = new Map<string, string>();
      for (const event of batches.flatMap((batch) => batch.events)) {
        if (event.type === 'put') {
          state.set(event.kv.key, event.kv.value);
        } else {
          state.delete(event.kv.key);
        }
      }
      const { kvs } = await store.range('');
      expect([...state].sort()).toEqual(kvs.map((kv) => [kv.key, kv.value]).sort());
      const mine = await watchOne.take(25);
      expect(mine.every((batch) => batch.events.every((e) => e.kv.key.startsWith('race/2/')))).toBe(
        true,
      );
      const revisions = mine.map((batch) => batch.revision);
      expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
      await watchAll.stop();
      await watchOne.stop();
    });

    it('keeps every change for a consumer that starts reading late', async () => {
      const { store } = ctx;
      const watch = readBatches(store, 'slow/');
      for (let i = 0; i < 300; i++) {
        await store.put(`slow/${i % 7}`, String(i));
      }
      const batches = await watch.take(300);
      expect(batches.map((batch) => batch.events[0]?.kv.value)).toEqual(
        Array.from({ length: 300 }, (_, i) => String(i)),
      );
      await watch.stop();
    });

    it('starts empty from the next revision and refuses one beyond it', async () => {
      const { store } = ctx;
      await store.put('a', '1');
      const current = await store.revision();
      const next = readBatches(store, '', { fromRevision: current + 1 });
      const put = await store.put('a', '2');
      expect(flatten(await next.take(1))).toEqual([[put.revision, 'put', 'a', '2']]);
      await next.stop();
      const beyond = store.watch('', { fromRevision: put.revision + 2 })[Symbol.asyncIterator]();
      await expect(beyond.next()).rejects.toBeInstanceOf(FutureRevisionError);
      const bad = store.watch('', { fromRevision: 0 })[Symbol.asyncIterator]();
      await expect(bad.next()).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('ends when its signal aborts, even while waiting', async () => {
      const { store } = ctx;
      const { revision } = await store.put('a', '1');
      const controller = new AbortController();
      const seen: WatchBatch[] = [];
      const loop = (async () => {
        for await (const batch of store.watch('', {
          fromRevision: revision,
          signal: controller.signal,
        })) {
          seen.push(batch);
          if (seen.length === 1) {
            // Abort while the watch is caught up and waiting for news.
            setTimeout(() => controller.abort(), 50);
          }
        }
      })();
      await loop;
      expect(seen).toHaveLength(1);
      // A signal aborted up front ends the watch at once, history or not.
      const batches: WatchBatch[] = [];
      for await (const batch of store.watch('', {
        fromRevision: revision,
        signal: controller.signal,
      })) {
        batches.push(batch);
      }
      expect(batches).toEqual([]);
    });

    it('ends when the store closes', async () => {
      const { store } = ctx;
      let ended = false;
      const loop = (async () => {
        for await (const batch of store.watch('')) {
          expect(batch.revision).toBeGreaterThan(0);
        }
        ended = true;
      })();
      await store.put('a', '1');
      await store.close();
      await loop;
      expect(ended).toBe(true);
      await expect(store.watch('')[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(
        StoreClosedError,
      );
    });

    it('stops when the consumer breaks out of the loop', async () => {
      const { store } = ctx;
      const { revision } = await store.put('a', '1');
      await store.put('a', '2');
      const seen: number[] = [];
      for await (const batch of store.watch('', { fromRevision: revision })) {
        seen.push(batch.revision);
        break;
      }
      expect(seen).toHaveLength(1);
      await store.put('a', '3');
      expect((await store.get('a'))?.value).toBe('3');
    });
  });
}
