import { createServer } from 'node:net';

import type { Store } from '../store/index.js';

import { PortsExhaustedError } from './errors.js';

const PREFIX = '/runtime/ports/';

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export const DEFAULT_PORT_RANGE: PortRange = { min: 21000, max: 29999 };

/** Whether nothing listens on 127.0.0.1:port right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

/**
 * Hands out instance ports from a range, never the same one twice at once:
 * a claim is a compare-and-swap on the store (so two Drover processes on one
 * home cannot collide), and a claimed port must also be free on the machine
 * (so a port some other program took is skipped).
 */
export class PortAllocator {
  private cursor: number;

  constructor(
    private readonly store: Store,
    private readonly range: PortRange = DEFAULT_PORT_RANGE,
  ) {
    this.cursor = range.min;
  }

  /** Claims a free port for `owner` (an instance id). */
  async allocate(owner: string): Promise<number> {
    const size = this.range.max - this.range.min + 1;
    for (let tried = 0; tried < size; tried++) {
      const port = this.cursor;
      this.cursor = port >= this.range.max ? this.range.min : port + 1;
      const claimed = await this.store.txn({
        compare: [{ key: PREFIX + port, target: 'version', op: '=', value: 0 }],
        success: [{ type: 'put', key: PREFIX + port, value: owner }],
      });
      if (!claimed.succeeded) continue;
      if (await portIsFree(port)) return port;
      await this.store.delete(PREFIX + port);
    }
    throw new PortsExhaustedError(this.range.min, this.range.max);
  }

  /** Gives a port back (when its instance is gone). */
  async release(port: number, owner?: string): Promise<void> {
    if (owner === undefined) {
      await this.store.delete(PREFIX + port);
      return;
    }
    await this.store.txn({
      compare: [{ key: PREFIX + port, target: 'value', op: '=', value: owner }],
      success: [{ type: 'delete', key: PREFIX + port }],
    });
  }

  /** Ports claimed now, with their owners. */
  async claimed(): Promise<Map<number, string>> {
    const { kvs } = await this.store.range(PREFIX);
    return new Map(kvs.map((kv) => [Number(kv.key.slice(PREFIX.length)), kv.value]));
  }
}
