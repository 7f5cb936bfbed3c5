/**
 * Wakes one waiting watcher. A wake that arrives while the watcher is busy
 * (reading or handing out batches) is remembered, so it is never lost between
 * the watcher's last read and its next wait.
 */
export class Waker {
  #pending = false;
  #waiting: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  #failure: { error: unknown } | undefined;

  wake(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting === undefined) {
      this.#pending = true;
    } else {
      waiting.resolve();
    }
  }

  /** Makes the current or next wait throw `error` (a failure of the shared poll). */
  fail(error: unknown): void {
    this.#failure = { error };
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error);
  }

  /** Forgets earlier wakes; call right before reading what they announced. */
  reset(): void {
    this.#pending = false;
  }

  wait(): Promise<void> {
    if (this.#failure !== undefined) {
      return Promise.reject(this.#failure.error);
    }
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }
}
