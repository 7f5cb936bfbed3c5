import type { Store } from '../store/index.js';

import type { EngineEvent } from './types.js';

const PREFIX = '/events/';
const KEEP = 20_000;

export type NewEvent = Omit<EngineEvent, 'seq' | 'at'>;

/**
 * The engine's record of what happened, in the store: every event gets the
 * store revision of its write as its sequence number, so readers can follow
 * from any point and the order is the same for everyone.
 */
export class EventLog {
  private counter = 0;
  private writes = 0;
  private readonly listeners = new Set<(event: EngineEvent) => void>();

  constructor(private readonly store: Store) {}

  async record(event: NewEvent): Promise<EngineEvent> {
    const at = new Date().toISOString();
    // Keys sort by time, then by a per-process counter for events in the same millisecond.
    const key = `${PREFIX}${Date.now().toString().padStart(15, '0')}-${process.pid}-${(this.counter++).toString().padStart(8, '0')}`;
    const { revision } = await this.store.put(key, JSON.stringify({ ...event, at }));
    if (++this.writes % 500 === 0) void this.prune();
    const recorded = { ...event, at, seq: revision };
    for (const listener of this.listeners) listener(recorded);
    return recorded;
  }

  /**
   * Calls `listener` with every event this process records, once it is
   * written (the daemon's metrics and log; readers elsewhere use `follow`).
   * A listener must not throw. Returns the function that removes it.
   */
  listen(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Recorded events after `since` (exclusive), oldest first. */
  async list(
    options: { since?: number; stack?: string; limit?: number } = {},
  ): Promise<EngineEvent[]> {
    return (await this.read(options)).events;
  }

  private async read(options: {
    since?: number;
    stack?: string;
    limit?: number;
  }): Promise<{ events: EngineEvent[]; revision: number }> {
    const { kvs, revision } = await this.store.range(PREFIX);
    const out: EngineEvent[] = [];
    for (const kv of kvs) {
      if (options.since !== undefined && kv.modRevision <= options.since) continue;
      const event = { ...(JSON.parse(kv.value) as Omit<EngineEvent, 'seq'>), seq: kv.modRevision };
      if (options.stack !== undefined && event.stack !== options.stack) continue;
      out.push(event);
    }
    return { events: options.limit === undefined ? out : out.slice(-options.limit), revision };
  }

  /** Recorded events after `since`, then new ones as they are recorded, until the signal aborts. */
  async *follow(options: {
    since?: number;
    stack?: string;
    signal?: AbortSignal;
  }): AsyncIterable<EngineEvent> {
    const past = await this.read(options);
    for (const event of past.events) yield event;
    // Watch from just after the read, so nothing recorded in between is missed or repeated.
    const from = past.revision + 1;
    for await (const batch of this.store.watch(PREFIX, {
      fromRevision: from,
      signal: options.signal,
    })) {
      for (const change of batch.events) {
        if (change.type !== 'put') continue;
        const event = {
          ...(JSON.parse(change.kv.value) as Omit<EngineEvent, 'seq'>),
          seq: change.kv.modRevision,
        };
        if (options.since !== undefined && event.seq <= options.since) continue;
        if (options.stack !== undefined && event.stack !== options.stack) continue;
        yield event;
      }
    }
  }

  /** Keeps the newest events only. */
  private async prune(): Promise<void> {
    const { kvs } = await this.store.range(PREFIX);
    const excess = kvs.length - KEEP;
    if (excess <= 0) return;
    await this.store.txn({
      compare: [],
      success: kvs.slice(0, excess).map((kv) => ({ type: 'delete' as const, key: kv.key })),
    });
  }
}
