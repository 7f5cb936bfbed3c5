import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { CompactedError } from '../errors.js';
import type { Compare, KeyValue, Store, TxnOp, TxnOpResult, WatchBatch } from '../store.js';

import type { ContractContext } from './helpers.case.js';

/*
 * A deliberately naive model of the contract (maps copied at every revision)
 * that random command sequences run against side by side with the store.
 * It orders keys with Buffer.compare on UTF-8, independently of the code under test.
 */

type Command =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'deletePrefix'; readonly prefix: string }
  | {
      readonly kind: 'txn';
      readonly compare: readonly CompareSeed[];
      readonly success: readonly TxnOp[];
      readonly failure: readonly TxnOp[];
    }
  | { readonly kind: 'compact'; readonly back: number };

/** A compare whose revision values are relative to the store's first revision. */
interface CompareSeed {
  readonly key: string;
  readonly target: 'value' | 'version' | 'createRevision' | 'modRevision';
  readonly op: Compare['op'];
  readonly number: number;
  readonly text: string;
}

const byteOrder = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

class Model {
  revision: number;
  compacted: number;
  kvs = new Map<string, KeyValue>();
  readonly snapshots = new Map<number, Map<string, KeyValue>>();

  constructor(readonly first: number) {
    this.revision = first;
    this.compacted = first;
    this.snapshots.set(first, new Map());
  }

  sorted(kvs: Map<string, KeyValue> = this.kvs, prefix = ''): KeyValue[] {
    return [...kvs.values()]
      .filter((kv) => kv.key.startsWith(prefix))
      .sort((a, b) => byteOrder(a.key, b.key));
  }

  /** Applies `ops` to a copy; commits it as one new revision when anything changed. */
  write(ops: readonly TxnOp[]): TxnOpResult[] {
    const next = this.revision + 1;
    const kvs = new Map(this.kvs);
    let wrote = false;
    const results = ops.map((op): TxnOpResult => {
      switch (op.type) {
        case 'put': {
          const prev = kvs.get(op.key);
          kvs.set(op.key, {
            key: op.key,
            value: op.value,
            createRevision: prev?.createRevision ?? next,
            modRevision: next,
            version: (prev?.version ?? 0) + 1,
          });
          wrote = true;
          return prev === undefined ? { type: 'put' } : { type: 'put', prev };
        }
        case 'delete':
        case 'deletePrefix': {
          const doomed = [...kvs.keys()].filter((key) =>
            op.type === 'delete' ? key === op.key : key.startsWith(op.prefix),
          );
          doomed.forEach((key) => kvs.delete(key));
          wrote ||= doomed.length > 0;
          return { type: op.type, deleted: doomed.length };
        }
        case 'get': {
          const kv = kvs.get(op.key);
          return kv === undefined ? { type: 'get' } : { type: 'get', kv };
        }
        case 'range':
          return { type: 'range', kvs: this.sorted(kvs, op.prefix) };
      }
    });
    if (wrote) {
      this.revision = next;
      this.kvs = kvs;
      this.snapshots.set(next, kvs);
    }
    return results;
  }

  holds(compare: Compare): boolean {
    const kv = this.kvs.get(compare.key);
    let order: number;
    if (compare.target === 'value') {
      if (kv === undefined) {
        return false;
      }
      order = byteOrder(kv.value, String(compare.value));
    } else if (compare.target === 'lease') {
      throw new Error('the model does not compare leases');
    } else {
      const actual = kv === undefined ? 0 : kv[compare.target];
      order = Math.sign(actual - Number(compare.value));
    }
    return { '=': order === 0, '!=': order !== 0, '<': order < 0, '>': order > 0 }[compare.op];
  }

  toCompare(seed: CompareSeed): Compare {
    const { key, target, op } = seed;
    if (target === 'value') {
      return { key, target, op, value: seed.text };
    }
    if (target === 'version') {
      return { key, target, op, value: seed.number % 4 };
    }
    return { key, target, op, value: seed.number === 0 ? 0 : this.first + seed.number };
  }
}

const char = fc.constantFrom('a', 'b', '/', 'é', '\uFFFF', '\u{1F600}');
// Mostly a few hot keys, so keys are often overwritten, deleted and created again.
const keyArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'b/a', 'b/\u{1F600}', '\uFFFF') },
  { weight: 1, arbitrary: fc.array(char, { minLength: 1, maxLength: 3 }).map((c) => c.join('')) },
);
const prefixArb = fc.array(char, { maxLength: 2 }).map((chars) => chars.join(''));
const valueArb = fc.string({ unit: char, maxLength: 2 });

const opArb: fc.Arbitrary<TxnOp> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key: keyArb, value: valueArb }),
  fc.record({ type: fc.constant('delete' as const), key: keyArb }),
  fc.record({ type: fc.constant('deletePrefix' as const), prefix: prefixArb }),
  fc.record({ type: fc.constant('get' as const), key: keyArb }),
  fc.record({ type: fc.constant('range' as const), prefix: prefixArb }),
);

/** Drops the ops that would break the one-write-per-key rule of a branch. */
function validBranch(ops: readonly TxnOp[]): TxnOp[] {
  const kept: TxnOp[] = [];
  const puts = new Set<string>();
  const deleted: string[] = [];
  const isDeleted = (key: string): boolean =>
    deleted.some((d) => (d.startsWith('\0') ? key.startsWith(d.slice(1)) : key === d));
  for (const op of ops) {
    if (op.type === 'put') {
      if (puts.has(op.key) || isDeleted(op.key)) {
        continue;
      }
      puts.add(op.key);
    } else if (op.type === 'delete' || op.type === 'deletePrefix') {
      const marker = op.type === 'delete' ? op.key : `\0${op.prefix}`;
      const covers = (key: string): boolean =>
        op.type === 'delete' ? key === op.key : key.startsWith(op.prefix);
      if ([...puts].some(covers)) {
        continue;
      }
      deleted.push(marker);
    }
    kept.push(op);
  }
  return kept;
}

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, value: valueArb }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('deletePrefix' as const), prefix: prefixArb }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('txn' as const),
      compare: fc.array(
        fc.record({
          key: keyArb,
          target: fc.constantFrom('value', 'version', 'createRevision', 'modRevision'),
          op: fc.constantFrom('=', '!=', '<', '>'),
          number: fc.nat(15),
          text: valueArb,
        }),
        { maxLength: 2 },
      ),
      success: fc.array(opArb, { maxLength: 4 }).map(validBranch),
      failure: fc.array(opArb, { maxLength: 3 }).map(validBranch),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6) }) },
);

async function run(store: Store, model: Model, command: Command): Promise<void> {
  switch (command.kind) {
    case 'put': {
      const [result] = model.write([{ type: 'put', key: command.key, value: command.value }]);
      const prev = result?.type === 'put' ? result.prev : undefined;
      const put = await store.put(command.key, command.value);
      expect(put).toEqual(
        prev === undefined ? { revision: model.revision } : { revision: model.revision, prev },
      );
      return;
    }
    case 'delete':
    case 'deletePrefix': {
      const op: TxnOp =
        command.kind === 'delete'
          ? { type: 'delete', key: command.key }
          : { type: 'deletePrefix', prefix: command.prefix };
      const [result] = model.write([op]);
      const deleted =
        command.kind === 'delete'
          ? await store.delete(command.key)
          : await store.deletePrefix(command.prefix);
      expect(deleted.revision).toBe(model.revision);
      expect(deleted.deleted).toBe(result?.type === op.type ? result.deleted : -1);
      return;
    }
    case 'txn': {
      const compare = command.compare.map((seed) => model.toCompare(seed));
      const succeeded = compare.every((c) => model.holds(c));
      const results = model.write(succeeded ? command.success : command.failure);
      const txn = await store.txn({ compare, success: command.success, failure: command.failure });
      expect(txn).toEqual({ succeeded, revision: model.revision, results });
      return;
    }
    case 'compact': {
      const target = Math.max(model.compacted, model.revision - command.back);
      await store.compact(target);
      model.compacted = target;
      return;
    }
  }
}

/** Replays the watch from `from` and checks it rebuilds the final state from the one before. */
async function checkReplay(store: Store, model: Model): Promise<void> {
  const from = Math.max(model.first + 1, model.compacted);
  if (from > model.revision) {
    return;
  }
  const state = new Map(model.snapshots.get(from - 1) ?? []);
  const batches: WatchBatch[] = [];
  const controller = new AbortController();
  for await (const batch of store.watch('', { fromRevision: from, signal: controller.signal })) {
    batches.push(batch);
    for (const event of batch.events) {
      expect(event.prev).toEqual(state.get(event.kv.key));
      if (event.type === 'put') {
        state.set(event.kv.key, event.kv);
      } else {
        state.delete(event.kv.key);
      }
    }
    if (batch.revision === model.revision) {
      controller.abort();
    }
  }
  const writes = [...model.snapshots.keys()].filter((revision) => revision >= from);
  expect(batches.map((batch) => batch.revision)).toEqual(writes);
  expect(model.sorted(state)).toEqual(model.sorted());
}

export function modelCases(ctx: ContractContext): void {
  describe('against a model', () => {
    it('random puts, deletes, transactions and compactions match the model', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { maxLength: 40, size: 'max' }), async (commands) => {
          const fixture = await ctx.open();
          try {
            const { store } = fixture;
            const model = new Model(await store.revision());
            for (const command of commands) {
              await run(store, model, command);
            }
            expect(await store.revision()).toBe(model.revision);
            expect((await store.range('')).kvs).toEqual(model.sorted());
            for (const prefix of ['a', 'b/', '\uFFFF', '\u{1F600}']) {
              const limited = await store.range(prefix, { limit: 2 });
              const all = model.sorted(model.kvs, prefix);
              expect(limited.kvs).toEqual(all.slice(0, 2));
              expect(limited.more).toBe(all.length > 2);
            }
            for (const [revision, snapshot] of model.snapshots) {
              const read = store.range('', { revision });
              if (revision < model.compacted) {
                await expect(read).rejects.toBeInstanceOf(CompactedError);
              } else {
                expect((await read).kvs).toEqual(model.sorted(snapshot));
              }
            }
            await checkReplay(store, model);
          } finally {
            await fixture.cleanup();
          }
        }),
        { numRuns: ctx.propertyRuns },
      );
    });
  });
}
