import type { ExitStatus, Runtime, RuntimeEvent } from '../runtime/index.js';

import { delay } from './delay.js';

/**
 * Hears the exits of chosen instances on a runtime's event stream, from the
 * moment it is made: make it before starting an instance, or its exit may
 * be missed. As a safety net for a stream that lags, fails or ends, it also
 * asks `runtime.list()`, once right after the start and then every `pollMs`.
 */
export class ExitWatch {
  /** Instances whose exit is wanted, and what was heard of them before anyone waited. */
  private readonly expected = new Set<string>();
  private readonly exits = new Map<string, ExitStatus>();
  private readonly waiters = new Map<string, (status: ExitStatus) => void>();
  private readonly controller = new AbortController();

  constructor(
    private readonly runtime: Pick<Runtime, 'events' | 'list'>,
    private readonly pollMs: number,
  ) {
    const events = runtime.events(this.controller.signal)[Symbol.asyncIterator]();
    // Event streams are async generators, which subscribe only once asked for
    // an item: ask now (next() runs synchronously up to its first wait), so
    // nothing published from here on is missed.
    void this.pump(events, events.next());
  }

  private async pump(
    events: AsyncIterator<RuntimeEvent>,
    first: Promise<IteratorResult<RuntimeEvent>>,
  ): Promise<void> {
    try {
      for (let item = await first; item.done !== true; item = await events.next()) {
        const event = item.value;
        if (event.type !== 'exit') continue;
        const status: ExitStatus = {
          exitCode: event.exitCode,
          signal: event.signal,
          ...(event.oomKilled ? { oomKilled: true } : {}),
          ...(event.note !== undefined ? { note: event.note } : {}),
        };
        const waiter = this.waiters.get(event.id);
        if (waiter) waiter(status);
        else if (this.expected.has(event.id)) this.exits.set(event.id, status);
      }
    } catch {
      // The stream failed (e.g. the engine went away): the list() polling still hears exits.
    }
  }

  /** Call before starting the instance: its exit is kept until `exited` asks for it. */
  expect(id: string): void {
    this.expected.add(id);
  }

  /** No longer wanted (its start failed). */
  forget(id: string): void {
    this.expected.delete(id);
    this.exits.delete(id);
  }

  /**
   * The instance's exit status once it has exited; undefined if `signal`
   * aborts first. An instance the runtime no longer lists counts as exited.
   */
  async exited(id: string, signal: AbortSignal): Promise<ExitStatus | undefined> {
    const local = new AbortController();
    const stop = (): void => local.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const heard = this.exits.get(id);
      if (heard) return heard;
      return await Promise.race([
        new Promise<ExitStatus | undefined>((resolve) => {
          this.waiters.set(id, resolve);
          local.signal.addEventListener('abort', () => resolve(undefined), { once: true });
        }),
        this.poll(id, local.signal),
      ]);
    } finally {
      signal.removeEventListener('abort', stop);
      local.abort();
      this.waiters.delete(id);
      this.exits.delete(id);
      this.expected.delete(id);
    }
  }

  /**
   * Asks the runtime until it says the instance has exited (or is gone). The
   * first time, the exit event gets one more period to arrive: it carries
   * the exit code, which a list may not know yet.
   */
  private async poll(id: string, signal: AbortSignal): Promise<ExitStatus | undefined> {
    let seenExited = false;
    while (!signal.aborted) {
      const found = (await this.runtime.list()).find((i) => i.handle.id === id);
      if (found === undefined || found.state === 'exited') {
        if (seenExited) {
          return found?.exit ?? { exitCode: null, signal: null, note: 'the instance is gone' };
        }
        seenExited = true;
      }
      if (!(await delay(this.pollMs, signal))) return undefined;
    }
    return undefined;
  }

  close(): void {
    this.controller.abort();
  }
}
