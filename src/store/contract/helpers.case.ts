import type { Store, WatchBatch, WatchOptions } from '../store.js';

export interface StoreFixture {
  readonly store: Store;
  /**
   * Opens the same data again; the test closes `store` first. Omitted by
   * backends without durable state, which skips the durability cases.
   */
  readonly reopen?: () => Promise<Store>;
  /** Closes every store the fixture opened (closing twice is fine) and frees its data. */
  readonly cleanup: () => Promise<void>;
}

export type OpenStore = () => Promise<StoreFixture>;

export interface ContractOptions {
  /** TTL of the leases the lease cases grant; raise it for backends with coarse TTLs. */
  readonly leaseTtlMs?: number;
  /** Runs of the model-based property. */
  readonly propertyRuns?: number;
}

/** What every case file receives: the current test's fixture and the suite's options. */
export interface ContractContext {
  readonly store: Store;
  readonly fixture: StoreFixture;
  readonly open: OpenStore;
  readonly leaseTtlMs: number;
  readonly propertyRuns: number;
}

/**
 * A bound on how long a case waits for something that must happen (a lease
 * expiring, a batch arriving). It only turns a hang into a failure with a
 * message; no case asserts how fast anything is.
 */
export const patienceMs = 10_000;

export interface BatchReader {
  /** The next `count` batches. */
  take(count: number): Promise<WatchBatch[]>;
  /** Aborts the watch and waits until its iterator has ended. */
  stop(): Promise<void>;
}

/** Starts a watch now (its start revision is fixed by this call) and reads it on demand. */
export function readBatches(
  store: Store,
  prefix: string,
  options: Omit<WatchOptions, 'signal'> = {},
): BatchReader {
  const controller = new AbortController();
  const iterator = store
    .watch(prefix, { ...options, signal: controller.signal })
    [Symbol.asyncIterator]();
  return {
    async take(count) {
      const timer = setTimeout(() => controller.abort(), patienceMs);
      try {
        const batches: WatchBatch[] = [];
        while (batches.length < count) {
          const step = await iterator.next();
          if (step.done === true) {
            throw new Error(`the watch ended after ${batches.length} of ${count} batches`);
          }
          batches.push(step.value);
        }
        return batches;
      } finally {
        clearTimeout(timer);
      }
    },
    async stop() {
      controller.abort();
      await iterator.return?.();
    },
  };
}

/** Polls `probe` until it returns true; fails after `patienceMs`. */
export async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + patienceMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting until ${what}`);
    }
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The keys of a range, for compact assertions. */
export async function keysOf(store: Store, prefix = ''): Promise<string[]> {
  return (await store.range(prefix)).kvs.map((kv) => kv.key);
}
