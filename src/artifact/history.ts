import { randomBytes } from 'node:crypto';

import type { Store } from '../store/index.js';

import { ArtifactStoreError } from './errors.js';

export type BuildResult = 'built' | 'cached' | 'failed' | 'timeout';

/** One ensureSnapshot that built, found, or failed to build an artifact. */
export interface BuildRecord {
  /** The artifact id (its revision). */
  readonly id: string;
  /** The inputs hash (context digest and build argv), when it got that far. */
  readonly inputs?: string;
  readonly who: string;
  /** ISO time. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly result: BuildResult;
  /** The build's log, kept under artifacts/logs/. */
  readonly logPath?: string;
  /** Why it failed: the error's code and message. */
  readonly error?: string;
}

export interface HistoryOptions {
  /** Only the records of this artifact. */
  readonly id?: string;
  /** At most this many, newest first. */
  readonly limit?: number;
}

export const HISTORY_PREFIX = '/artifacts/builds/';

/** Larger than any millisecond time Drover will see (the year 2286). */
const TIME_CEILING = 9_999_999_999_999;
const SEQUENCE_CEILING = 999_999;

/**
 * Keys are the start time counted down from a ceiling, so that the store's
 * ascending key order is newest first and `limit` reads only the newest
 * records. A per-process sequence orders records started in the same
 * millisecond; random bytes keep other processes' keys apart.
 */
export class BuildHistory {
  #sequence = 0;

  constructor(readonly store: Store) {}

  async add(record: BuildRecord): Promise<void> {
    this.#sequence = (this.#sequence + 1) % SEQUENCE_CEILING;
    const time = String(TIME_CEILING - Date.parse(record.startedAt)).padStart(13, '0');
    const order = String(SEQUENCE_CEILING - this.#sequence).padStart(6, '0');
    const key = `${HISTORY_PREFIX}${time}-${order}-${randomBytes(4).toString('hex')}`;
    try {
      await this.store.put(key, JSON.stringify(record));
    } catch (error) {
      throw new ArtifactStoreError(`cannot record the build of ${record.id}`, { cause: error });
    }
  }

  async list(options: HistoryOptions = {}): Promise<BuildRecord[]> {
    const limit = options.limit;
    if (limit !== undefined && limit <= 0) return [];
    let values: string[];
    try {
      // Filtering by id reads every record: fine for the history of one home.
      const result = await this.store.range(
        HISTORY_PREFIX,
        options.id === undefined && limit !== undefined ? { limit } : {},
      );
      values = result.kvs.map((kv) => kv.value);
    } catch (error) {
      throw new ArtifactStoreError('cannot read the build history', { cause: error });
    }
    const records = values.map(parseRecord);
    const chosen = options.id === undefined ? records : records.filter((r) => r.id === options.id);
    return limit === undefined ? chosen : chosen.slice(0, limit);
  }
}

function parseRecord(value: string): BuildRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new ArtifactStoreError(`a build record is not JSON: ${value.slice(0, 80)}`, {
      cause: error,
    });
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { id?: unknown }).id !== 'string' ||
    typeof (parsed as { result?: unknown }).result !== 'string'
  ) {
    throw new ArtifactStoreError(`a build record is not one: ${value.slice(0, 80)}`);
  }
  return parsed as BuildRecord;
}
