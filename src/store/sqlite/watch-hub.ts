import { StoreBackendError, StoreError } from '../errors.js';
import type { WatchBatch } from '../store.js';

import { Waker } from './waker.js';
import type { FeedChunk } from './watch-feed.js';

export interface WatchHubOptions {
  readonly pollIntervalMs: number;
  /** False once the store is closed: watches then end. */
  readonly isOpen: () => boolean;
  /** `PRAGMA data_version`: changes whenever another connection commits. */
  readonly dataVersion: () => unknown;
}

/**
 * The live watches of one store. Each watch reads its own way through history
 * (readFeed) and sleeps on its Waker when caught up; the hub wakes them all
 * after this store's writes and, while any watch exists, when a cheap poll of
 * data_version shows that another process (or another store on the same file)
 * committed.
 */
export class WatchHub {
  readonly #options: WatchHubOptions;
  readonly #wakers = new Set<Waker>();
  #pollTimer: NodeJS.Timeout | undefined;
  #dataVersion: unknown;

  constructor(options: WatchHubOptions) {
    this.#options = options;
  }

  /** Yields the chunks' batches from `start` on until the signal aborts or the store closes. */
  async *follow(
    start: number,
    readChunk: (from: number) => FeedChunk,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<WatchBatch> {
    const stopped = (): boolean => signal?.aborted === true || !this.#options.isOpen();
    if (stopped()) {
      return;
    }
    const waker = new Waker();
    const onAbort = (): void => waker.wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#add(waker);
    try {
      let next = start;
      for (;;) {
        waker.reset();
        const chunk = readChunk(next);
        next = chunk.next;
        for (const batch of chunk.batches) {
          yield batch;
          if (stopped()) {
            return;
          }
        }
        if (chunk.caughtUp) {
          await waker.wait();
        }
        if (stopped()) {
          return;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#remove(waker);
    }
  }

  wakeAll(): void {
    for (const waker of this.#wakers) {
      waker.wake();
    }
  }

  /** Stops polling and wakes every watch so that it sees the store closed and ends. */
  close(): void {
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    this.wakeAll();
  }

  #add(waker: Waker): void {
    this.#wakers.add(waker);
    if (this.#pollTimer === undefined) {
      this.#dataVersion = this.#options.dataVersion();
      this.#pollTimer = setInterval(() => this.#poll(), this.#options.pollIntervalMs);
      this.#pollTimer.unref();
    }
  }

  #remove(waker: Waker): void {
    this.#wakers.delete(waker);
    if (this.#wakers.size === 0) {
      clearInterval(this.#pollTimer);
      this.#pollTimer = undefined;
    }
  }

  #poll(): void {
    try {
      const version = this.#options.dataVersion();
      if (version !== this.#dataVersion) {
        this.#dataVersion = version;
        this.wakeAll();
      }
    } catch (error) {
      // Every watch depends on this poll, so each one ends with the failure.
      const failure =
        error instanceof StoreError
          ? error
          : new StoreBackendError('cannot poll the store for changes', { cause: error });
      for (const waker of this.#wakers) {
        waker.fail(failure);
      }
    }
  }
}
