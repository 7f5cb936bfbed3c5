import type { Database, RunResult, Statement } from 'better-sqlite3';

import { StoreBackendError } from '../errors.js';
import type { KeyValue } from '../store.js';

/** A row of `kv`, or a `history` row read as the state of its key. */
export interface KvRow {
  readonly key: string;
  readonly value: string;
  readonly create_revision: number;
  readonly mod_revision: number;
  readonly version: number;
  readonly lease: string | null;
}

export interface HistoryRow {
  readonly revision: number;
  readonly sub: number;
  readonly key: string;
  readonly type: 'put' | 'delete';
  readonly value: string;
  readonly create_revision: number;
  readonly version: number;
  readonly lease: string | null;
}

export interface Meta {
  readonly revision: number;
  /** The oldest revision still readable. */
  readonly compacted: number;
}

export function toKeyValue(row: KvRow): KeyValue {
  const kv = {
    key: row.key,
    value: row.value,
    createRevision: row.create_revision,
    modRevision: row.mod_revision,
    version: row.version,
  };
  return row.lease === null ? kv : { ...kv, lease: row.lease };
}

/** Which keys a statement touches: one key, or every key with a prefix. */
export type KeySelector =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'prefix'; readonly start: string; readonly end: string | undefined };

export function keySelector(key: string): KeySelector {
  return { kind: 'key', key };
}

/**
 * A prefix as the half-open range [prefix, prefixEnd), which the primary key
 * index answers directly (LIKE would not: it is case-insensitive and treats
 * '%' and '_' specially).
 */
export function prefixSelector(prefix: string): KeySelector {
  return { kind: 'prefix', start: prefix, end: prefixEnd(prefix) };
}

/**
 * The smallest string greater than every string starting with `prefix`: its
 * last code point incremented (skipping the surrogate block, which UTF-8 cannot
 * hold), dropping trailing U+10FFFF; undefined when no such string exists ('' or
 * only U+10FFFF), meaning no upper bound. Code point order is the UTF-8 byte
 * order SQLite's BINARY collation compares in.
 */
export function prefixEnd(prefix: string): string | undefined {
  const codePoints = Array.from(prefix, (char) => char.codePointAt(0) ?? 0);
  while (codePoints.length > 0) {
    const last = codePoints.pop() ?? 0;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return String.fromCodePoint(...codePoints, next);
    }
  }
  return undefined;
}

/** The WHERE fragment and its parameters selecting `selector` on `column`. */
export function keyClause(column: string, selector: KeySelector): [string, string[]] {
  if (selector.kind === 'key') {
    return [`${column} = ?`, [selector.key]];
  }
  return selector.end === undefined
    ? [`${column} >= ?`, [selector.start]]
    : [`${column} >= ? AND ${column} < ?`, [selector.start, selector.end]];
}

/**
 * Statements cached by their text, since better-sqlite3 compiles on prepare.
 * Rows are typed by the caller: the SQL next to each call names the columns.
 */
export class Sql {
  readonly #statements = new Map<string, Statement<unknown[], unknown>>();

  constructor(readonly db: Database) {}

  all<Row>(source: string, params: readonly unknown[] = []): Row[] {
    return this.#prepare(source).all(...params) as Row[];
  }

  get<Row>(source: string, params: readonly unknown[] = []): Row | undefined {
    return this.#prepare(source).get(...params) as Row | undefined;
  }

  run(source: string, params: readonly unknown[] = []): RunResult {
    return this.#prepare(source).run(...params);
  }

  meta(): Meta {
    const meta = this.get<Meta>('SELECT revision, compacted FROM meta WHERE id = 1');
    if (meta === undefined) {
      throw new StoreBackendError(`${this.db.name} has no meta row`);
    }
    return meta;
  }

  #prepare(source: string): Statement<unknown[], unknown> {
    let statement = this.#statements.get(source);
    if (statement === undefined) {
      statement = this.db.prepare<unknown[], unknown>(source);
      this.#statements.set(source, statement);
    }
    return statement;
  }
}
