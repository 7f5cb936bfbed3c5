import type { Socket } from 'node:net';
import { connect } from 'node:net';

import type { Endpoint } from '../registry/index.js';

/** What listens on an upstream connection while it carries a request. */
export interface ConnectionUser {
  /** Bytes read; `chunk` is only valid during the call (copy what is kept). */
  onData(chunk: Buffer): void;
  onEnd(): void;
  onError(error: Error): void;
}

/**
 * Pooled upstream connections read into this one buffer (reads run one at a
 * time on the event loop): no buffer is allocated per read and the socket's
 * stream machinery is skipped, which matters on the proxy's hot path. A
 * reader copies what it keeps beyond its callback.
 */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * A kept-alive upstream connection. Its socket listeners are attached once and
 * forward to whoever uses it now: adding and removing listeners per request
 * costs more than the request itself on a fast path.
 */
export class Connection {
  user: ConnectionUser | undefined;
  /** True once it carried a request (a failure on it then is not a connect failure). */
  reused = false;

  constructor(readonly socket: Socket) {
    socket.on('end', () => this.user?.onEnd());
    socket.on('close', () => this.user?.onEnd());
    socket.on('error', (error: Error) => this.user?.onError(error));
  }

  /** When it was last put back idle (for the idle timeout, swept by the proxy's timer). */
  idleSince = 0;
}

export interface BackendOptions {
  readonly connectTimeoutMs: number;
  readonly maxIdle: number;
  readonly idleTimeoutMs: number;
}

/**
 * One endpoint as the proxy uses it: its keep-alive connections, the requests
 * in flight on it, and whether it takes new ones (active), is leaving
 * (draining) or refused connections lately (ejected until a deadline).
 */
export class Backend {
  outstanding = 0;
  state: 'active' | 'draining' = 'active';
  drainDeadline = 0;
  ejectedUntil = 0;
  failures = 0;
  private readonly idle: Connection[] = [];
  /** Every connection, idle or busy, so draining can close them all. */
  private readonly connections = new Set<Connection>();

  constructor(
    public endpoint: Endpoint,
    private readonly options: BackendOptions,
  ) {}

  /** An idle connection, or a new one (handed over once connected). */
  acquire(callback: (error: Error | undefined, connection?: Connection) => void): void {
    for (let c = this.idle.pop(); c !== undefined; c = this.idle.pop()) {
      if (!c.socket.destroyed && c.socket.readyState === 'open') {
        c.reused = true;
        callback(undefined, c);
        return;
      }
    }
    let connection: Connection | undefined;
    const socket = connect({
      host: this.endpoint.address,
      port: this.endpoint.port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (length) => {
          connection?.user?.onData(readBuffer.subarray(0, length));
          return true;
        },
      },
    });
    this.opened((connection = new Connection(socket)), callback);
  }

  /**
   * A connection of its own, never pooled, read as a stream (`data` events):
   * for a protocol upgrade, which pipes it to the client.
   */
  dedicated(callback: (error: Error | undefined, connection?: Connection) => void): void {
    const socket = connect({
      host: this.endpoint.address,
      port: this.endpoint.port,
      noDelay: true,
    });
    this.opened(new Connection(socket), callback);
  }

  private opened(
    connection: Connection,
    callback: (error: Error | undefined, connection?: Connection) => void,
  ): void {
    const socket = connection.socket;
    this.connections.add(connection);
    socket.once('close', () => this.forget(connection));
    const timer = setTimeout(
      () => socket.destroy(new Error(`connect timeout after ${this.options.connectTimeoutMs} ms`)),
      this.options.connectTimeoutMs,
    );
    connection.user = {
      onData: () => undefined,
      onEnd: () => undefined,
      onError: (error) => {
        clearTimeout(timer);
        connection.user = undefined;
        callback(error);
      },
    };
    socket.once('connect', () => {
      clearTimeout(timer);
      connection.user = undefined;
      callback(undefined, connection);
    });
  }

  /** Gives a connection back after a complete response that allows keep-alive. */
  release(connection: Connection): void {
    connection.user = undefined;
    const socket = connection.socket;
    if (socket.destroyed || this.state === 'draining' || this.idle.length >= this.options.maxIdle) {
      socket.destroy();
      return;
    }
    // A connection the backend closes while idle is forgotten on 'close'; one idle too long is closed by closeIdle().
    connection.idleSince = Date.now();
    this.idle.push(connection);
  }

  /** Closes connections idle since before `before` (oldest are at the start of the list). */
  closeIdle(before: number): void {
    while (this.idle.length > 0 && (this.idle[0] as Connection).idleSince < before)
      this.idle.shift()?.socket.destroy();
  }

  private forget(connection: Connection): void {
    this.connections.delete(connection);
    const i = this.idle.indexOf(connection);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Connections are closed: idle ones now, busy ones too when `all`. */
  close(all: boolean): void {
    for (const c of all ? [...this.connections] : [...this.idle]) c.socket.destroy();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  usable(now: number): boolean {
    return this.state === 'active' && this.endpoint.weight > 0 && this.ejectedUntil <= now;
  }

  /** After a refused connection: out of rotation for a while, longer each time. */
  eject(now: number): void {
    this.failures++;
    this.ejectedUntil = now + Math.min(30_000, 500 * 2 ** Math.min(this.failures - 1, 6));
  }

  succeeded(): void {
    if (this.failures === 0) return;
    this.failures = 0;
    this.ejectedUntil = 0;
  }
}

/**
 * The backends of one service. Selection first picks a revision in
 * proportion to its endpoints' weights (canary steps set them), then the
 * backend of that revision with the fewest requests in flight.
 */
export class ServicePool {
  private turn = 0;
  private readonly singleRevision: boolean;

  constructor(
    readonly name: string,
    readonly backends: readonly Backend[],
  ) {
    this.singleRevision = new Set(backends.map((b) => b.endpoint.revision)).size <= 1;
  }

  select(exclude?: ReadonlySet<Backend>): Backend | undefined {
    const now = Date.now();
    let candidates = this.backends.filter((b) => b.usable(now) && !exclude?.has(b));
    if (candidates.length === 0) {
      // Everything is ejected: try them anyway rather than refuse outright.
      candidates = this.backends.filter(
        (b) => b.state === 'active' && b.endpoint.weight > 0 && !exclude?.has(b),
      );
      if (candidates.length === 0) return undefined;
    }
    if (!this.singleRevision) candidates = this.pickRevision(candidates);
    // Least outstanding requests; ties go round-robin so idle backends share the load.
    const start = this.turn++ % candidates.length;
    let best = candidates[start] as Backend;
    for (let i = 1; i < candidates.length; i++) {
      const b = candidates[(start + i) % candidates.length] as Backend;
      if (b.outstanding < best.outstanding) best = b;
    }
    return best;
  }

  /** A revision chosen in proportion to the summed weights of its usable backends. */
  private pickRevision(candidates: Backend[]): Backend[] {
    const byRevision = new Map<string, { weight: number; backends: Backend[] }>();
    let total = 0;
    for (const b of candidates) {
      const group = byRevision.get(b.endpoint.revision) ?? { weight: 0, backends: [] };
      group.weight += b.endpoint.weight;
      total += b.endpoint.weight;
      group.backends.push(b);
      byRevision.set(b.endpoint.revision, group);
    }
    let pick = Math.random() * total;
    for (const group of byRevision.values()) {
      pick -= group.weight;
      if (pick < 0) return group.backends;
    }
    return candidates;
  }
}
