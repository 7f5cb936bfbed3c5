import { InvalidArgumentError } from './errors.js';
import { isWellFormed } from './keys.js';
import type { Compare, CompareTarget, RangeOptions, TxnOp, TxnRequest } from './store.js';

/*
 * Argument checks every backend runs before touching storage, so that a bad
 * call fails the same way (InvalidArgumentError) on SQLite and on etcd.
 */

export function assertKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key === '') {
    throw new InvalidArgumentError(`${what} must be a non-empty string`);
  }
  if (!isWellFormed(key)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(key)} holds a lone surrogate`);
  }
}

/** A prefix may be '' (every key). */
export function assertPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') {
    throw new InvalidArgumentError('prefix must be a string');
  }
  if (!isWellFormed(prefix)) {
    throw new InvalidArgumentError(`prefix ${JSON.stringify(prefix)} holds a lone surrogate`);
  }
}

export function assertValue(value: unknown): asserts value is string {
  if (typeof value !== 'string') {
    throw new InvalidArgumentError('value must be a string');
  }
  if (!isWellFormed(value)) {
    throw new InvalidArgumentError('value holds a lone surrogate');
  }
}

export function assertPositiveInteger(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${what} must be a positive integer, got ${String(value)}`);
  }
}

export function assertRangeOptions(options: RangeOptions | undefined): void {
  if (options?.revision !== undefined) {
    assertPositiveInteger(options.revision, 'revision');
  }
  if (options?.limit !== undefined) {
    assertPositiveInteger(options.limit, 'limit');
  }
}

const numericTargets: ReadonlySet<CompareTarget> = new Set([
  'version',
  'createRevision',
  'modRevision',
]);
const stringTargets: ReadonlySet<CompareTarget> = new Set(['value', 'lease']);
const compareOps: ReadonlySet<string> = new Set(['=', '!=', '<', '>']);

function assertCompare(compare: Compare): void {
  assertKey(compare.key, 'compare key');
  if (!compareOps.has(compare.op)) {
    throw new InvalidArgumentError(`unknown compare op ${JSON.stringify(compare.op)}`);
  }
  if (numericTargets.has(compare.target)) {
    if (typeof compare.value !== 'number' || !Number.isSafeInteger(compare.value)) {
      throw new InvalidArgumentError(`compare on ${compare.target} needs an integer value`);
    }
  } else if (stringTargets.has(compare.target)) {
    if (typeof compare.value !== 'string') {
      throw new InvalidArgumentError(`compare on ${compare.target} needs a string value`);
    }
  } else {
    throw new InvalidArgumentError(`unknown compare target ${JSON.stringify(compare.target)}`);
  }
}

function assertOp(op: TxnOp): void {
  switch (op.type) {
    case 'put':
      assertKey(op.key);
      assertValue(op.value);
      if (op.lease !== undefined) {
        assertKey(op.lease, 'lease');
      }
      return;
    case 'delete':
    case 'get':
      assertKey(op.key);
      return;
    case 'deletePrefix':
    case 'range':
      assertPrefix(op.prefix);
      return;
    default:
      throw new InvalidArgumentError(`unknown txn op ${JSON.stringify(op satisfies never)}`);
  }
}

/**
 * etcd's rule: within one branch a key is put at most once and never both put
 * and deleted, so a branch's writes do not depend on their order.
 */
function assertBranch(ops: readonly TxnOp[], branch: string): void {
  const puts = new Set<string>();
  const deletedKeys = new Set<string>();
  const deletedPrefixes: string[] = [];
  for (const op of ops) {
    assertOp(op);
    if (op.type === 'put') {
      if (puts.has(op.key)) {
        throw new InvalidArgumentError(`${branch} puts ${JSON.stringify(op.key)} twice`);
      }
      puts.add(op.key);
    } else if (op.type === 'delete') {
      deletedKeys.add(op.key);
    } else if (op.type === 'deletePrefix') {
      deletedPrefixes.push(op.prefix);
    }
  }
  for (const key of puts) {
    if (deletedKeys.has(key) || deletedPrefixes.some((prefix) => key.startsWith(prefix))) {
      throw new InvalidArgumentError(`${branch} both puts and deletes ${JSON.stringify(key)}`);
    }
  }
}

export function assertTxn(request: TxnRequest): void {
  request.compare.forEach(assertCompare);
  assertBranch(request.success, 'success');
  assertBranch(request.failure ?? [], 'failure');
}
