/**
 * Fan-out of events to any number of async-iterator subscribers, each with
 * its own buffer: a slow reader never blocks the runtime or other readers.
 */
export class Feed<T> {
  private readonly subscribers = new Set<{ queue: T[]; wake?: () => void }>();
  private closed = false;

  publish(event: T): void {
    for (const sub of this.subscribers) {
      sub.queue.push(event);
      sub.wake?.();
    }
  }

  close(): void {
    this.closed = true;
    for (const sub of this.subscribers) sub.wake?.();
  }

  async *subscribe(signal?: AbortSignal): AsyncIterable<T> {
    const sub: { queue: T[]; wake?: () => void } = { queue: [] };
    this.subscribers.add(sub);
    const onAbort = (): void => sub.wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!this.closed && !signal?.aborted) {
        const next = sub.queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          sub.wake = resolve;
        });
        sub.wake = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.subscribers.delete(sub);
    }
  }
}
