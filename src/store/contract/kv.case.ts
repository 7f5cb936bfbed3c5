import { describe, expect, it } from 'vitest';

import {
  FutureRevisionError,
  InvalidArgumentError,
  StoreClosedError,
  StoreError,
} from '../errors.js';

import type { ContractContext } from './helpers.case.js';
import { keysOf } from './helpers.case.js';

export function kvCases(ctx: ContractContext): void {
  describe('get, put and delete', () => {
    it('starts empty at a positive revision that reads leave alone', async () => {
      const { store } = ctx;
      const start = await store.revision();
      expect(start).toBeGreaterThanOrEqual(1);
      expect(await store.get('missing')).toBeUndefined();
      expect(await store.range('')).toEqual({ kvs: [], revision: start, more: false });
      expect(await store.revision()).toBe(start);
    });

    it('creates a key at version 1 with one new revision', async () => {
      const { store } = ctx;
      const start = await store.revision();
      const put = await store.put('a', '1');
      expect(put).toEqual({ revision: start + 1 });
      expect(await store.get('a')).toEqual({
        key: 'a',
        value: '1',
        createRevision: start + 1,
        modRevision: start + 1,
        version: 1,
      });
      expect(await store.revision()).toBe(start + 1);
    });

    it('updates a key: same createRevision, next version, previous value returned', async () => {
      const { store } = ctx;
      const first = await store.put('a', '1');
      const second = await store.put('a', '2');
      expect(second.revision).toBe(first.revision + 1);
      expect(second.prev).toEqual({
        key: 'a',
        value: '1',
        createRevision: first.revision,
        modRevision: first.revision,
        version: 1,
      });
      expect(await store.get('a')).toMatchObject({
        value: '2',
        createRevision: first.revision,
        modRevision: second.revision,
        version: 2,
      });
    });

    it('deletes a key with one revision; deleting nothing keeps the revision', async () => {
      const { store } = ctx;
      const put = await store.put('a', '1');
      const deleted = await store.delete('a');
      expect(deleted).toEqual({
        revision: put.revision + 1,
        deleted: 1,
        prev: [
          {
            key: 'a',
            value: '1',
            createRevision: put.revision,
            modRevision: put.revision,
            version: 1,
          },
        ],
      });
      expect(await store.get('a')).toBeUndefined();
      expect(await store.delete('a')).toEqual({ revision: put.revision + 1, deleted: 0, prev: [] });
      expect(await store.revision()).toBe(put.revision + 1);
    });

    it('re-creates a deleted key from version 1 with a new createRevision', async () => {
      const { store } = ctx;
      await store.put('a', '1');
      await store.put('a', '2');
      await store.delete('a');
      const again = await store.put('a', '3');
      expect(again.prev).toBeUndefined();
      expect(await store.get('a')).toMatchObject({
        value: '3',
        version: 1,
        createRevision: again.revision,
        modRevision: again.revision,
      });
    });

    it('keeps any well-formed text as keys and values', async () => {
      const { store } = ctx;
      const texts = ['é/ü', '\u{1F600}', 'nul\u0000inside', 'tab\tand\nnewline', 'quote\'"', '%_'];
      for (const text of texts) {
        await store.put(`k/${text}`, text);
      }
      const big = 'x'.repeat(256 * 1024);
      await store.put('k/big', big);
      for (const text of texts) {
        expect((await store.get(`k/${text}`))?.value).toBe(text);
      }
      expect((await store.get('k/big'))?.value).toBe(big);
      expect(await store.put('k/empty', '')).toBeDefined();
      expect((await store.get('k/empty'))?.value).toBe('');
    });

    it('rejects malformed keys, values and options with InvalidArgumentError', async () => {
      const { store } = ctx;
      const start = await store.revision();
      const calls: [string, () => Promise<unknown>][] = [
        ['put of an empty key', () => store.put('', 'x')],
        ['get of an empty key', () => store.get('')],
        ['delete of an empty key', () => store.delete('')],
        ['a lone surrogate in a key', () => store.put('a\uD800', 'x')],
        ['a lone surrogate in a value', () => store.put('a', '\uDC00')],
        ['a lone surrogate in a prefix', () => store.range('\uD800')],
        ['revision 0', () => store.range('', { revision: 0 })],
        ['a fractional revision', () => store.get('a', { revision: 1.5 })],
        ['limit 0', () => store.range('', { limit: 0 })],
        ['a negative limit', () => store.range('', { limit: -1 })],
        ['compaction at 0', () => store.compact(0)],
      ];
      for (const [what, call] of calls) {
        await expect(call(), what).rejects.toBeInstanceOf(InvalidArgumentError);
      }
      expect(await store.revision()).toBe(start);
    });
  });

  describe('range', () => {
    it('returns the keys under a prefix in UTF-8 byte order', async () => {
      const { store } = ctx;
      const inside = ['p/b', 'p/\u{1F600}', 'p/a', 'p/\uFFFF', 'p/é', 'p/A', 'p/a/deep', 'p/'];
      for (const key of [...inside, 'p', 'p0', 'o/x', 'q', 'P/a']) {
        await store.put(key, key);
      }
      // Code point order: U+FFFF before U+1F600, unlike JavaScript's `<`.
      expect(await keysOf(store, 'p/')).toEqual([
        'p/',
        'p/A',
        'p/a',
        'p/a/deep',
        'p/b',
        'p/é',
        'p/\uFFFF',
        'p/\u{1F600}',
      ]);
      expect(await keysOf(store, 'p/a')).toEqual(['p/a', 'p/a/deep']);
      expect(await keysOf(store, 'p/\uFFFF')).toEqual(['p/\uFFFF']);
      expect(await keysOf(store, 'nothing')).toEqual([]);
    });

    it('returns every key for the empty prefix', async () => {
      const { store } = ctx;
      for (const key of ['b', 'a', '\u{10FFFF}', 'c/d']) {
        await store.put(key, 'v');
      }
      expect(await keysOf(store)).toEqual(['a', 'b', 'c/d', '\u{10FFFF}']);
    });

    it('limits the result and says when there is more', async () => {
      const { store } = ctx;
      for (const key of ['l/1', 'l/2', 'l/3']) {
        await store.put(key, key);
      }
      const revision = await store.revision();
      const two = await store.range('l/', { limit: 2 });
      expect(two.kvs.map((kv) => kv.key)).toEqual(['l/1', 'l/2']);
      expect(two.more).toBe(true);
      expect(two.revision).toBe(revision);
      expect((await store.range('l/', { limit: 3 })).more).toBe(false);
      expect((await store.range('l/', { limit: 10 })).more).toBe(false);
      expect((await store.range('l/')).more).toBe(false);
    });

    it('reads the store as it was at an older revision', async () => {
      const { store } = ctx;
      const a1 = await store.put('h/a', '1');
      const b1 = await store.put('h/b', '1');
      const a2 = await store.put('h/a', '2');
      const bGone = await store.delete('h/b');
      const c1 = await store.put('h/c', '1');

      const atB1 = await store.range('h/', { revision: b1.revision });
      expect(atB1.revision).toBe(b1.revision);
      expect(atB1.kvs).toEqual([
        {
          key: 'h/a',
          value: '1',
          createRevision: a1.revision,
          modRevision: a1.revision,
          version: 1,
        },
        {
          key: 'h/b',
          value: '1',
          createRevision: b1.revision,
          modRevision: b1.revision,
          version: 1,
        },
      ]);
      expect((await store.range('h/', { revision: a2.revision })).kvs).toEqual([
        {
          key: 'h/a',
          value: '2',
          createRevision: a1.revision,
          modRevision: a2.revision,
          version: 2,
        },
        {
          key: 'h/b',
          value: '1',
          createRevision: b1.revision,
          modRevision: b1.revision,
          version: 1,
        },
      ]);
      expect(await keysOf(store, 'h/')).toEqual(['h/a', 'h/c']);
      const atDelete = await store.range('h/', { revision: bGone.revision, limit: 1 });
      expect(atDelete.kvs.map((kv) => kv.key)).toEqual(['h/a']);
      expect(atDelete.more).toBe(false);
      expect(await store.get('h/b', { revision: bGone.revision - 1 })).toMatchObject({
        value: '1',
      });
      expect(await store.get('h/c', { revision: bGone.revision })).toBeUndefined();
      expect(await store.get('h/c', { revision: c1.revision })).toMatchObject({ value: '1' });
      expect((await store.range('h/', { revision: a1.revision - 1 })).kvs).toEqual([]);
    });

    it('fails for a revision that does not exist yet with FutureRevisionError', async () => {
      const { store } = ctx;
      await store.put('a', '1');
      const current = await store.revision();
      const error = await store.range('', { revision: current + 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FutureRevisionError);
      expect(error).toMatchObject({
        requested: current + 1,
        current,
        code: 'STORE_FUTURE_REVISION',
      });
      await expect(store.get('a', { revision: current + 5 })).rejects.toBeInstanceOf(
        FutureRevisionError,
      );
    });
  });

  describe('deletePrefix', () => {
    it('deletes exactly the keys under the prefix, in key order, in one revision', async () => {
      const { store } = ctx;
      for (const key of ['d/b', 'd/a', 'd/a/x', 'd', 'd0', 'e']) {
        await store.put(key, key);
      }
      const start = await store.revision();
      const result = await store.deletePrefix('d/');
      expect(result.revision).toBe(start + 1);
      expect(result.deleted).toBe(3);
      expect(result.prev.map((kv) => [kv.key, kv.value])).toEqual([
        ['d/a', 'd/a'],
        ['d/a/x', 'd/a/x'],
        ['d/b', 'd/b'],
      ]);
      expect(await keysOf(store)).toEqual(['d', 'd0', 'e']);
    });

    it('keeps the revision when nothing matches', async () => {
      const { store } = ctx;
      await store.put('x', '1');
      const start = await store.revision();
      expect(await store.deletePrefix('y')).toEqual({ revision: start, deleted: 0, prev: [] });
      expect(await store.revision()).toBe(start);
    });

    it('deletes everything for the empty prefix', async () => {
      const { store } = ctx;
      await store.put('a', '1');
      await store.put('b/c', '2');
      expect((await store.deletePrefix('')).deleted).toBe(2);
      expect(await keysOf(store)).toEqual([]);
    });
  });

  describe('close', () => {
    it('is idempotent and makes every later call fail with StoreClosedError', async () => {
      const { store } = ctx;
      const lease = await store.grantLease(60_000);
      await store.close();
      await store.close();
      const calls: [string, () => Promise<unknown>][] = [
        ['get', () => store.get('a')],
        ['range', () => store.range('')],
        ['put', () => store.put('a', '1')],
        ['delete', () => store.delete('a')],
        ['deletePrefix', () => store.deletePrefix('a')],
        ['txn', () => store.txn({ compare: [], success: [] })],
        ['grantLease', () => store.grantLease(1000)],
        ['keepAlive', () => lease.keepAlive()],
        ['revision', () => store.revision()],
        ['compact', () => store.compact(1)],
        ['watch', () => store.watch('')[Symbol.asyncIterator]().next()],
      ];
      for (const [what, call] of calls) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, what).toBeInstanceOf(StoreClosedError);
        expect(error, what).toBeInstanceOf(StoreError);
      }
    });
  });
}
