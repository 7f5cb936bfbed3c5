import { StoreBackendError, StoreError } from '../errors.js';

export interface LeaseTimerOptions {
  /** Longest pause between checks, which bounds how late other processes' leases expire. */
  readonly intervalMs: number;
  /** Revokes every lease whose time is up. */
  readonly expireDue: () => void;
  /** The earliest expiry of any lease (wall-clock ms), if there is one. */
  readonly nextExpiry: () => number | undefined;
  readonly onError: (error: StoreError) => void;
}

/**
 * Runs lease expiry: when the next known lease is due, and at least every
 * `intervalMs` for leases granted by other processes, which may have died.
 */
export class LeaseTimer {
  readonly #options: LeaseTimerOptions;
  #timer: NodeJS.Timeout | undefined;
  #at = Infinity;
  #closed = false;

  constructor(options: LeaseTimerOptions) {
    this.#options = options;
  }

  /** Arms the timer for `delayMs` from now unless it already fires sooner. */
  schedule(delayMs = this.#options.intervalMs): void {
    const at = Date.now() + delayMs;
    if (this.#closed || at >= this.#at) {
      return;
    }
    clearTimeout(this.#timer);
    this.#at = at;
    this.#timer = setTimeout(() => this.#check(), Math.max(1, delayMs));
    this.#timer.unref(); // an idle store must not keep the process alive
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #check(): void {
    this.#timer = undefined;
    this.#at = Infinity;
    let delayMs = this.#options.intervalMs;
    try {
      this.#options.expireDue();
      const next = this.#options.nextExpiry();
      if (next !== undefined) {
        delayMs = Math.min(delayMs, next - Date.now());
      }
    } catch (error) {
      // Expiry is idempotent: report, and the next check tries again.
      this.#options.onError(
        error instanceof StoreError
          ? error
          : new StoreBackendError('lease expiry failed', { cause: error }),
      );
    }
    this.schedule(delayMs);
  }
}
