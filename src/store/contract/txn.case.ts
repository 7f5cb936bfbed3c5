import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, LeaseNotFoundError } from '../errors.js';
import type { Compare, Store } from '../store.js';

import type { ContractContext } from './helpers.case.js';
import { keysOf } from './helpers.case.js';

/** Whether a transaction guarded by `compare` alone takes its success branch. */
async function holds(store: Store, compare: Compare): Promise<boolean> {
  return (await store.txn({ compare: [compare], success: [] })).succeeded;
}

export function txnCases(ctx: ContractContext): void {
  describe('txn', () => {
    it('compares every target with every operator on an existing key', async () => {
      const { store } = ctx;
      const lease = await store.grantLease(60_000);
      const created = (await store.put('k', 'm')).revision;
      const modified = (await store.put('k', 'm', { lease: lease.id })).revision;
      const cases: [Compare['target'], Compare['op'], string | number, boolean][] = [
        ['value', '=', 'm', true],
        ['value', '=', 'n', false],
        ['value', '!=', 'n', true],
        ['value', '!=', 'm', false],
        ['value', '<', 'n', true],
        ['value', '<', 'l', false],
        ['value', '>', 'l', true],
        ['value', '>', 'm', false],
        ['value', '<', 'm\u0000', true],
        ['version', '=', 2, true],
        ['version', '!=', 2, false],
        ['version', '<', 3, true],
        ['version', '<', 2, false],
        ['version', '>', 1, true],
        ['version', '>', 2, false],
        ['createRevision', '=', created, true],
        ['createRevision', '!=', modified, true],
        ['createRevision', '<', modified, true],
        ['createRevision', '>', created, false],
        ['modRevision', '=', modified, true],
        ['modRevision', '=', created, false],
        ['modRevision', '>', created, true],
        ['modRevision', '<', modified, false],
        ['lease', '=', lease.id, true],
        ['lease', '!=', '', true],
        ['lease', '=', '', false],
      ];
      const start = await store.revision();
      for (const [target, op, value, expected] of cases) {
        const compare = { key: 'k', target, op, value };
        expect(await holds(store, compare), `${target} ${op} ${String(value)}`).toBe(expected);
      }
      expect(await store.revision()).toBe(start);
    });

    it('sees an absent key as version 0, revisions 0, lease "" and no value', async () => {
      const { store } = ctx;
      await store.put('other', 'x');
      const cases: [Compare['target'], Compare['op'], string | number, boolean][] = [
        ['version', '=', 0, true],
        ['version', '>', 0, false],
        ['createRevision', '=', 0, true],
        ['modRevision', '<', 1, true],
        ['lease', '=', '', true],
        // As in etcd, no comparison of an absent key's value holds.
        ['value', '=', '', false],
        ['value', '!=', 'x', false],
        ['value', '<', 'x', false],
      ];
      for (const [target, op, value, expected] of cases) {
        const compare = { key: 'absent', target, op, value };
        expect(await holds(store, compare), `${target} ${op} ${String(value)}`).toBe(expected);
      }
    });

    it('runs the success ops atomically, at one revision, with their results', async () => {
      const { store } = ctx;
      await store.put('t/old', 'o');
      await store.put('t/gone', 'g');
      await store.put('u/1', '1');
      await store.put('u/2', '2');
      const start = await store.revision();
      const result = await store.txn({
        compare: [
          { key: 't/old', target: 'value', op: '=', value: 'o' },
          { key: 't/new', target: 'version', op: '=', value: 0 },
        ],
        success: [
          { type: 'put', key: 't/new', value: 'n' },
          { type: 'put', key: 't/old', value: 'o2' },
          { type: 'delete', key: 't/gone' },
          { type: 'deletePrefix', prefix: 'u/' },
          { type: 'get', key: 't/old' },
          { type: 'range', prefix: 't/' },
        ],
        failure: [{ type: 'put', key: 't/failed', value: 'f' }],
      });
      const revision = start + 1;
      expect(result.succeeded).toBe(true);
      expect(result.revision).toBe(revision);
      expect(await store.revision()).toBe(revision);
      const [putNew, putOld, deleted, deletedPrefix, got, ranged] = result.results;
      expect(putNew).toEqual({ type: 'put' });
      expect(putOld).toMatchObject({ type: 'put', prev: { key: 't/old', value: 'o', version: 1 } });
      expect(deleted).toEqual({ type: 'delete', deleted: 1 });
      expect(deletedPrefix).toEqual({ type: 'deletePrefix', deleted: 2 });
      expect(got).toMatchObject({ type: 'get', kv: { value: 'o2', version: 2 } });
      expect(ranged?.type === 'range' && ranged.kvs.map((kv) => [kv.key, kv.value])).toEqual([
        ['t/new', 'n'],
        ['t/old', 'o2'],
      ]);
      expect(await keysOf(store)).toEqual(['t/new', 't/old']);
      for (const key of ['t/new', 't/old']) {
        expect((await store.get(key))?.modRevision).toBe(revision);
      }
    });

    it('runs the failure ops when any compare fails', async () => {
      const { store } = ctx;
      await store.put('f', '1');
      const start = await store.revision();
      const result = await store.txn({
        compare: [
          { key: 'f', target: 'value', op: '=', value: '1' },
          { key: 'f', target: 'version', op: '>', value: 1 },
        ],
        success: [{ type: 'put', key: 'f', value: 'success' }],
        failure: [
          { type: 'get', key: 'f' },
          { type: 'put', key: 'g', value: 'failure' },
        ],
      });
      expect(result.succeeded).toBe(false);
      expect(result.revision).toBe(start + 1);
      expect(result.results).toEqual([{ type: 'get', kv: await store.get('f') }, { type: 'put' }]);
      expect((await store.get('f'))?.value).toBe('1');
      expect((await store.get('g'))?.value).toBe('failure');
    });

    it('keeps the revision when the branch that runs writes nothing', async () => {
      const { store } = ctx;
      await store.put('r', '1');
      const start = await store.revision();
      const failed = await store.txn({
        compare: [{ key: 'r', target: 'value', op: '=', value: 'no' }],
        success: [{ type: 'put', key: 'r', value: '2' }],
      });
      expect(failed).toEqual({ succeeded: false, revision: start, results: [] });
      const reads = await store.txn({
        compare: [],
        success: [
          { type: 'get', key: 'missing' },
          { type: 'delete', key: 'missing' },
          { type: 'deletePrefix', prefix: 'none/' },
        ],
      });
      expect(reads).toEqual({
        succeeded: true,
        revision: start,
        results: [
          { type: 'get' },
          { type: 'delete', deleted: 0 },
          { type: 'deletePrefix', deleted: 0 },
        ],
      });
      expect(await store.revision()).toBe(start);
    });

    it('lets later ops see the writes of earlier ones', async () => {
      const { store } = ctx;
      await store.put('s/gone', 'x');
      const result = await store.txn({
        compare: [],
        success: [
          { type: 'put', key: 's/a', value: '1' },
          { type: 'delete', key: 's/gone' },
          { type: 'get', key: 's/a' },
          { type: 'range', prefix: 's/' },
        ],
      });
      expect(result.results[2]).toMatchObject({ type: 'get', kv: { key: 's/a', value: '1' } });
      expect(result.results[3]).toMatchObject({ type: 'range', kvs: [{ key: 's/a' }] });
    });

    it('refuses a branch that puts a key twice or both puts and deletes it', async () => {
      const { store } = ctx;
      await store.put('x/a', '0');
      const start = await store.revision();
      const branches = [
        [
          { type: 'put', key: 'x/a', value: '1' },
          { type: 'put', key: 'x/a', value: '2' },
        ],
        [
          { type: 'delete', key: 'x/a' },
          { type: 'put', key: 'x/a', value: '1' },
        ],
        [
          { type: 'put', key: 'x/a', value: '1' },
          { type: 'deletePrefix', prefix: 'x/' },
        ],
      ] as const;
      for (const branch of branches) {
        await expect(store.txn({ compare: [], success: branch })).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
        await expect(
          store.txn({ compare: [], success: [], failure: branch }),
        ).rejects.toBeInstanceOf(InvalidArgumentError);
      }
      // Deleting a key twice, or putting one key in each branch, is fine.
      await store.txn({
        compare: [],
        success: [
          { type: 'delete', key: 'x/a' },
          { type: 'deletePrefix', prefix: 'x/' },
        ],
        failure: [{ type: 'put', key: 'x/a', value: 'f' }],
      });
      expect(await store.revision()).toBe(start + 1);
    });

    it('refuses compares whose value does not fit the target', async () => {
      const { store } = ctx;
      const bad: Compare[] = [
        { key: 'k', target: 'version', op: '=', value: '1' },
        { key: 'k', target: 'modRevision', op: '>', value: 1.5 },
        { key: 'k', target: 'value', op: '=', value: 1 },
        { key: '', target: 'version', op: '=', value: 0 },
      ];
      for (const compare of bad) {
        await expect(store.txn({ compare: [compare], success: [] })).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
      }
    });

    it('is all or nothing: a failing op undoes the ops before it', async () => {
      const { store } = ctx;
      await store.put('keep', 'v');
      const start = await store.revision();
      await expect(
        store.txn({
          compare: [],
          success: [
            { type: 'put', key: 'first', value: '1' },
            { type: 'delete', key: 'keep' },
            { type: 'put', key: 'leased', value: '2', lease: 'no-such-lease' },
          ],
        }),
      ).rejects.toBeInstanceOf(LeaseNotFoundError);
      expect(await store.revision()).toBe(start);
      expect(await keysOf(store)).toEqual(['keep']);
    });

    it('serialises concurrent compare-and-swap increments', async () => {
      const { store } = ctx;
      await store.put('counter', '0');
      const increment = async (): Promise<void> => {
        for (;;) {
          const current = await store.get('counter');
          if (current === undefined) {
            throw new Error('counter vanished');
          }
          const { succeeded } = await store.txn({
            compare: [
              { key: 'counter', target: 'modRevision', op: '=', value: current.modRevision },
            ],
            success: [{ type: 'put', key: 'counter', value: String(Number(current.value) + 1) }],
          });
          if (succeeded) {
            return;
          }
        }
      };
      const worker = async (): Promise<void> => {
        for (let i = 0; i < 10; i++) {
          await increment();
        }
      };
      await Promise.all([worker(), worker(), worker(), worker(), worker()]);
      expect(await store.get('counter')).toMatchObject({ value: '50', version: 51 });
    });
  });
}
