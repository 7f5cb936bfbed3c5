import { compareKeys } from '../keys.js';
import type { Compare, KeyValue, TxnOp, TxnOpResult } from '../store.js';

import { keySelector, prefixSelector } from './sql.js';
import type { WriteBatch } from './write-batch.js';

/** Evaluates one compare against a key's current state (undefined = absent). */
export function compareHolds(kv: KeyValue | undefined, compare: Compare): boolean {
  if (kv === undefined && compare.target === 'value') {
    return false; // etcd: an absent key has no value to compare
  }
  const actual = targetOf(kv, compare.target);
  const expected = compare.value;
  const order =
    typeof actual === 'number' && typeof expected === 'number'
      ? Math.sign(actual - expected)
      : compareKeys(String(actual), String(expected));
  switch (compare.op) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '>':
      return order > 0;
  }
}

function targetOf(kv: KeyValue | undefined, target: Compare['target']): string | number {
  switch (target) {
    case 'value':
      return kv?.value ?? '';
    case 'version':
      return kv?.version ?? 0;
    case 'createRevision':
      return kv?.createRevision ?? 0;
    case 'modRevision':
      return kv?.modRevision ?? 0;
    case 'lease':
      return kv?.lease ?? '';
  }
}

export function applyOp(batch: WriteBatch, op: TxnOp): TxnOpResult {
  switch (op.type) {
    case 'put': {
      const prev = batch.put(op.key, op.value, op.lease);
      return prev === undefined ? { type: 'put' } : { type: 'put', prev };
    }
    case 'delete':
      return { type: 'delete', deleted: batch.delete(keySelector(op.key)).length };
    case 'deletePrefix':
      return { type: 'deletePrefix', deleted: batch.delete(prefixSelector(op.prefix)).length };
    case 'get': {
      const kv = batch.get(op.key);
      return kv === undefined ? { type: 'get' } : { type: 'get', kv };
    }
    case 'range':
      return { type: 'range', kvs: batch.range(prefixSelector(op.prefix)) };
  }
}
