import { STATUS_CODES } from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

import type { RegistrySnapshot } from '../registry/index.js';

import type { AccessLog } from './access-log.js';
import type { ClientRequest } from './client.js';
import { ClientConnection } from './client.js';
import { ListenError } from './errors.js';
import type { ExchangeContext } from './exchange.js';
import { Exchange } from './exchange.js';
import type { Series } from './metrics.js';
import { ProxyMetrics } from './metrics.js';
import { normalizeHost, normalizeTarget } from './normalize.js';
import { Backend, ServicePool } from './pool.js';
import type { ProxyRoute } from './routes.js';
import { fromRegistryRoute, RouteTable } from './routes.js';
import { proxyUpgrade } from './upgrade.js';

export interface ProxyOptions {
  readonly host?: string;
  readonly port?: number;
  /** Give up connecting to a backend after this long (then try another). */
  readonly connectTimeoutMs?: number;
  /** 504 when a backend has not started answering after this long. */
  readonly responseTimeoutMs?: number;
  /** A backend leaving the pool gets this long to finish its requests. */
  readonly drainTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** A client's request head must arrive within this long (slow-header attacks). */
  readonly headersTimeoutMs?: number;
  /** An idle kept-alive client connection is closed after this long. */
  readonly keepAliveTimeoutMs?: number;
  readonly maxIdlePerBackend?: number;
  readonly metrics?: ProxyMetrics;
  readonly accessLog?: AccessLog;
}

interface Config {
  readonly routes: RouteTable;
  readonly pools: ReadonlyMap<string, ServicePool>;
}

/**
 * Drover's reverse proxy: routes by host and path prefix to the live
 * endpoints of a service, from a table swapped atomically on every registry
 * change. Upstream connections are kept alive per backend; a backend that
 * refuses a connection is tried no more for a while and the request goes to
 * another (the only retry: nothing was sent yet). A backend leaving the pool
 * finishes its requests within the drain timeout.
 */
export class Proxy {
  readonly metrics: ProxyMetrics;
  private config: Config = { routes: new RouteTable([]), pools: new Map() };
  private readonly backends = new Map<string, Backend>();
  private readonly draining = new Set<Backend>();
  private readonly server: Server;
  private readonly sweeper: NodeJS.Timeout;
  /** Requests waiting on a backend, for the response timeout. */
  private readonly inFlight = new Set<Exchange>();
  private readonly clients = new Set<ClientConnection>();
  private readonly context: ExchangeContext;
  private readonly options: Required<Omit<ProxyOptions, 'metrics' | 'accessLog'>> &
    Pick<ProxyOptions, 'accessLog'>;

  constructor(options: ProxyOptions = {}) {
    this.options = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      responseTimeoutMs: options.responseTimeoutMs ?? 60_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 65_000,
      maxIdlePerBackend: options.maxIdlePerBackend ?? 256,
      accessLog: options.accessLog,
    };
    this.metrics = options.metrics ?? new ProxyMetrics();
    const handler = {
      request: (req: ClientRequest) => this.handle(req),
      upgrade: (req: ClientRequest, socket: Socket, head: Buffer) =>
        this.upgrade(req, socket, head),
    };
    const limits = {
      headersTimeoutMs: this.options.headersTimeoutMs,
      keepAliveTimeoutMs: this.options.keepAliveTimeoutMs,
    };
    this.server = createServer({ noDelay: true }, (socket) => {
      const client = new ClientConnection(socket, handler, limits);
      this.clients.add(client);
      socket.once('close', () => this.clients.delete(client));
    });
    this.context = {
      metrics: this.metrics,
      accessLog: this.options.accessLog,
      finished: (exchange) => {
        this.inFlight.delete(exchange);
      },
      retry: (exchange) => {
        const pool = this.config.pools.get(exchange.route.pool);
        const tried = exchange.tried ?? new Set<Backend>();
        tried.add(exchange.backend);
        if (pool?.select(tried) === undefined || exchange.req.connection.destroyed)
          return undefined;
        const { req, start, route, path, host } = exchange;
        return () => this.forward({ req, start, route, path, host, tried }, pool);
      },
    };
    // One timer for draining and response timeouts, not one per request.
    this.sweeper = setInterval(() => this.sweep(), 100);
    this.sweeper.unref();
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (error) =>
        reject(new ListenError(`${this.options.host}:${this.options.port}`, { cause: error })),
      );
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const backend of [...this.backends.values(), ...this.draining]) backend.close(true);
    for (const client of this.clients) client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Takes a new picture of the registry: routes and pools are rebuilt and
   * swapped in one assignment; backends that stay keep their connections and
   * counters; backends that leave (or are marked draining) drain.
   */
  /** The registry revision of the picture in use. */
  appliedRevision = 0;

  /** Requests in flight on a backend (active or draining), by `stack/service/instance`. */
  requestsInFlight(key: string): number {
    const active = this.backends.get(key);
    let n = active?.outstanding ?? 0;
    for (const b of this.draining) {
      if (`${b.endpoint.stack}/${b.endpoint.service}/${b.endpoint.instance}` === key)
        n += b.outstanding;
    }
    return n;
  }

  update(snapshot: RegistrySnapshot): void {
    this.appliedRevision = Math.max(this.appliedRevision, snapshot.revision);
    const present = new Set<string>();
    const pools = new Map<string, Backend[]>();
    for (const endpoint of snapshot.endpoints) {
      if (endpoint.draining) continue;
      const key = `${endpoint.stack}/${endpoint.service}/${endpoint.instance}`;
      let backend = this.backends.get(key);
      if (backend === undefined || backend.state === 'draining') {
        backend = new Backend(endpoint, {
          connectTimeoutMs: this.options.connectTimeoutMs,
          maxIdle: this.options.maxIdlePerBackend,
          idleTimeoutMs: this.options.idleTimeoutMs,
        });
        this.backends.set(key, backend);
      } else {
        backend.endpoint = endpoint;
      }
      if (!endpoint.healthy) continue;
      present.add(key);
      const poolName = `${endpoint.stack}/${endpoint.service}`;
      const list = pools.get(poolName) ?? [];
      list.push(backend);
      pools.set(poolName, list);
    }
    const now = Date.now();
    for (const [key, backend] of this.backends) {
      if (present.has(key)) continue;
      this.backends.delete(key);
      backend.state = 'draining';
      backend.drainDeadline = now + this.options.drainTimeoutMs;
      this.draining.add(backend);
    }
    this.config = {
      routes: new RouteTable(snapshot.routes.map(fromRegistryRoute)),
      pools: new Map([...pools].map(([name, list]) => [name, new ServicePool(name, list)])),
    };
    this.sweepDraining(now);
  }

  /** Backends that are leaving: closed once idle, or cut off at their deadline. */
  private sweep(): void {
    const now = performance.now();
    for (const exchange of this.inFlight) {
      if (!exchange.answered && now >= exchange.deadline)
        exchange.timedOut(this.options.responseTimeoutMs);
    }
    const wall = Date.now();
    if (wall - this.lastIdleSweep >= 1000) {
      this.lastIdleSweep = wall;
      for (const backend of this.backends.values())
        backend.closeIdle(wall - this.options.idleTimeoutMs);
      for (const client of this.clients) client.expire(wall);
    }
    this.sweepDraining(wall);
  }

  private lastIdleSweep = 0;

  private sweepDraining(now: number): void {
    for (const backend of this.draining) {
      if (backend.outstanding === 0 || now >= backend.drainDeadline) {
        backend.close(true);
        this.draining.delete(backend);
      } else {
        backend.close(false);
      }
    }
  }

  /** Backends in flight, for tests and the API. */
  stats(): { active: number; draining: number; routes: number } {
    return {
      active: this.backends.size,
      draining: this.draining.size,
      routes: this.config.routes.size,
    };
  }

  private handle(req: ClientRequest): void {
    const start = performance.now();
    const target = normalizeTarget(req.url);
    if (!target.ok) return this.reply(req, start, 400, target.reason);
    const host = normalizeHost(target.host ?? req.header('host'));
    const config = this.config;
    const route = config.routes.match(host, target.path);
    if (route === undefined)
      return this.reply(req, start, 404, `no route for ${host}${target.path}`);
    const pool = config.pools.get(route.pool);
    this.forward(
      { req, start, route, path: target.path + target.query, host, tried: undefined },
      pool,
    );
  }

  private forward(x: Pending, pool: ServicePool | undefined): void {
    const backend = pool?.select(x.tried);
    if (backend === undefined) {
      return x.tried === undefined
        ? this.reply(x.req, x.start, 503, `no healthy backend for ${x.route.pool}`)
        : this.reply(x.req, x.start, 502, `could not connect to any backend of ${x.route.pool}`);
    }
    backend.outstanding++;
    backend.acquire((error, connection) => {
      if (error !== undefined || connection === undefined) {
        // Nothing was sent: the one case where trying another backend is always safe.
        backend.outstanding--;
        backend.eject(Date.now());
        (x.tried ??= new Set()).add(backend);
        return this.forward(x, pool);
      }
      backend.succeeded();
      if (x.req.connection.destroyed) {
        backend.outstanding--;
        backend.release(connection);
        return;
      }
      const exchange = new Exchange(
        this.context,
        x.req,
        x.start,
        x.route,
        x.host,
        x.path,
        backend,
        connection,
        seriesOf(this.metrics, x.route, backend),
        this.options.responseTimeoutMs,
      );
      exchange.tried = x.tried;
      this.inFlight.add(exchange);
    });
  }

  private upgrade(req: ClientRequest, client: Socket, head: Buffer): void {
    const target = normalizeTarget(req.url);
    const refuse = (status: number, message: string): void => {
      const body = `${status} ${STATUS_CODES[status] ?? ''}: ${message}\n`;
      client.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (!target.ok) return refuse(400, target.reason);
    const host = normalizeHost(target.host ?? req.header('host'));
    const route = this.config.routes.match(host, target.path);
    if (route === undefined) return refuse(404, `no route for ${host}${target.path}`);
    const backend = this.config.pools.get(route.pool)?.select();
    if (backend === undefined) return refuse(503, `no healthy backend for ${route.pool}`);
    proxyUpgrade({ req, client, head, backend, path: target.path + target.query, refuse });
  }

  /** A response of the proxy's own: short and clear, counted and logged. */
  private reply(req: ClientRequest, start: number, status: number, message: string): void {
    this.options.accessLog?.({
      time: new Date().toISOString(),
      remote: req.connection.remoteAddress,
      method: req.method,
      host: normalizeHost(req.header('host')),
      path: req.url,
      status,
      durationMs: performance.now() - start,
      error: message,
    });
    req.connection.reply(status, message);
  }
}

interface Pending {
  readonly req: ClientRequest;
  readonly start: number;
  readonly route: ProxyRoute;
  readonly path: string;
  readonly host: string;
  tried: Set<Backend> | undefined;
}

const seriesCache = new WeakMap<Backend, Map<string, Series>>();

/** The metrics series of a route on a backend, created once. */
function seriesOf(metrics: ProxyMetrics, route: ProxyRoute, backend: Backend): Series {
  let byRoute = seriesCache.get(backend);
  if (byRoute === undefined) {
    byRoute = new Map();
    seriesCache.set(backend, byRoute);
  }
  let series = byRoute.get(route.id);
  if (series === undefined || series.labels.revision !== backend.endpoint.revision) {
    series = metrics.seriesFor({
      route: route.id,
      service: route.pool,
      revision: backend.endpoint.revision,
      instance: backend.endpoint.instance,
    });
    byRoute.set(route.id, series);
  }
  return series;
}
