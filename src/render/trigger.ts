/** A burst of changes that never pauses still renders after this many debounce periods. */
const MAX_WAIT_FACTOR = 10;

/**
 * Decides when a renderer's job runs, one run at a time:
 * - after changes: trailing debounce, `debounceMs` after the last change of a
 *   burst, but no later than `MAX_WAIT_FACTOR × debounceMs` after its first
 *   (a service that flaps without pause must not starve the file);
 * - after a failure (`retryIn`): at the retry time, which later changes do
 *   not bring forward, so backoff protects the reload target from a storm;
 *   the retry renders the latest picture anyway.
 * A change while the job runs makes it run again afterwards (debounced).
 */
export class Trigger {
  #timer: NodeJS.Timeout | undefined;
  #burstStart: number | undefined;
  #retrying = false;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(
    /** Must not reject: it reports its own failures and calls `retryIn`. */
    private readonly job: () => Promise<void>,
    private readonly debounceMs: number,
  ) {}

  changed(): void {
    if (this.#closed || this.#retrying) return;
    const now = performance.now();
    this.#burstStart ??= now;
    const due = Math.min(
      now + this.debounceMs,
      this.#burstStart + this.debounceMs * MAX_WAIT_FACTOR,
    );
    this.#arm(due - now);
  }

  /** Called by the job when it failed: the next run is a retry in `ms`. */
  retryIn(ms: number): void {
    if (this.#closed) return;
    this.#retrying = true;
    this.#again = false;
    this.#burstStart = undefined;
    this.#arm(ms);
  }

  /** Settles when the current run (if any) has finished. */
  async idle(): Promise<void> {
    await this.#running;
  }

  /** No more runs; a run in progress finishes (await `idle()`). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, ms));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#burstStart = undefined;
    this.#retrying = false;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#runLoop().finally(() => {
      this.#running = undefined;
    });
  }

  async #runLoop(): Promise<void> {
    do {
      this.#again = false;
      await this.job();
    } while (this.#again && !this.#closed && !this.#retrying);
  }
}

export interface RetryPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Exponential backoff: `initialMs` after the first failure in a row, doubling up to `maxMs`. */
export function backoffMs(failures: number, retry: RetryPolicy): number {
  return Math.min(retry.maxMs, retry.initialMs * 2 ** Math.max(0, failures - 1));
}
