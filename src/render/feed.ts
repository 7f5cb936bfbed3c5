/**
 * Fans events out to any number of readers. Each reader is registered when
 * `subscribe` is called (not when it first pulls), so a reader created before
 * `start()` misses nothing; each buffers what it has not read yet (events are
 * few: one or two per registry change). A reader ends when its signal aborts
 * or the feed closes.
 */
export class Feed<T> {
  readonly #readers = new Set<Reader<T>>();
  #closed = false;

  publish(event: T): void {
    for (const reader of this.#readers) reader.push(event);
  }

  subscribe(signal?: AbortSignal): AsyncIterableIterator<T> {
    const stop = () => reader.end();
    const reader = new Reader<T>(() => {
      this.#readers.delete(reader);
      signal?.removeEventListener('abort', stop);
    });
    if (this.#closed || signal?.aborted) reader.end();
    else {
      this.#readers.add(reader);
      signal?.addEventListener('abort', stop, { once: true });
    }
    return reader;
  }

  close(): void {
    this.#closed = true;
    for (const reader of [...this.#readers]) reader.end();
  }
}

class Reader<T> implements AsyncIterableIterator<T> {
  readonly #queue: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #ended = false;

  constructor(private readonly detach: () => void) {}

  push(event: T): void {
    if (this.#ended) return;
    if (this.#waiting === undefined) this.#queue.push(event);
    else {
      const wake = this.#waiting;
      this.#waiting = undefined;
      wake({ value: event, done: false });
    }
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.detach();
    const wake = this.#waiting;
    this.#waiting = undefined;
    wake?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const event = this.#queue.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    this.#queue.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
