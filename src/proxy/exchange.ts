import { performance } from 'node:perf_hooks';

import type { AccessLog } from './access-log.js';
import type { ClientConnection, ClientRequest } from './client.js';
import { endToEnd } from './headers.js';
import type { ProxyMetrics, Series } from './metrics.js';
import type { Backend, Connection, ConnectionUser } from './pool.js';
import type { ResponseHandler, ResponseHead } from './response-reader.js';
import { ResponseReader } from './response-reader.js';
import type { ProxyRoute } from './routes.js';

/** Headers the proxy writes itself, dropped from what the client sent. */
const REWRITTEN = new Set([
  'host',
  'content-length',
  'expect',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

export interface ExchangeContext {
  readonly metrics: ProxyMetrics;
  readonly accessLog?: AccessLog;
  /** Called once when the exchange is over, whatever happened. */
  finished(exchange: Exchange): void;
  /**
   * Another backend for a request whose backend failed before answering, or
   * undefined when there is none left to try. Calling the result sends it there.
   */
  retry(exchange: Exchange): (() => void) | undefined;
}

/**
 * Methods that mean the same when sent twice (RFC 9110, 9.2.2). Without a
 * body, such a request can go to another backend when the first one fails
 * before answering (a backend killed mid-request, a keep-alive connection
 * closed as the request went out), as nginx and HAProxy do.
 */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * One request on its way through a backend and back: writes the request on
 * an upstream connection, reads the response and relays it, and settles the
 * books once (in-flight count, connection reuse, metrics, access log). A
 * class rather than closures: this is the hot path.
 */
export class Exchange implements ConnectionUser, ResponseHandler {
  private done = false;
  private bodySent: boolean;
  private response: ResponseHead | undefined;
  private readonly reader: ResponseReader;
  /** Idempotent and without a body: may be sent again elsewhere while no answer came. */
  private readonly replayable: boolean;
  /** Backends this request already failed on (set by the proxy). */
  tried: Set<Backend> | undefined;
  /** When the response head must have arrived (checked by the proxy's timer). */
  readonly deadline: number;

  constructor(
    private readonly ctx: ExchangeContext,
    readonly req: ClientRequest,
    readonly start: number,
    readonly route: ProxyRoute,
    readonly host: string,
    readonly path: string,
    readonly backend: Backend,
    private readonly connection: Connection,
    private readonly series: Series,
    timeoutMs: number,
  ) {
    this.deadline = start + timeoutMs;
    this.client = req.connection;
    this.reader = new ResponseReader(this, req.method === 'HEAD');
    const body =
      req.header('transfer-encoding') !== undefined ? 'chunked' : req.header('content-length');
    this.bodySent = body === undefined || body === '0';
    this.replayable = this.bodySent && IDEMPOTENT.has(req.method);
    connection.user = this;
    this.client.onClientClosed = () => this.clientClosed();
    connection.socket.write(this.requestHead(body), 'latin1');
    if (!this.bodySent) this.sendBody(body === 'chunked');
  }

  /** Where the response goes. */
  private readonly client: ClientConnection;

  private requestHead(body: string | undefined): string {
    const req = this.req;
    const originalHost = req.header('host') ?? this.host;
    let head = `${req.method} ${this.path} HTTP/1.1\r\nHost: ${originalHost}\r\n`;
    const headers = endToEnd(req.rawHeaders, REWRITTEN);
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    const forwardedFor = req.joined('x-forwarded-for');
    const client = this.client.remoteAddress;
    head += `X-Forwarded-For: ${forwardedFor ? `${forwardedFor}, ${client}` : client}\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: ${originalHost}\r\n`;
    if (body === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
    else if (body !== undefined) head += `Content-Length: ${body}\r\n`;
    return `${head}\r\n`;
  }

  /** Streams the request body with backpressure, framed as the client framed it. */
  private sendBody(chunked: boolean): void {
    const socket = this.connection.socket;
    this.req.readBody(
      (chunk) => {
        if (this.done) return;
        let ok: boolean;
        if (chunked) {
          socket.cork();
          socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
          socket.write(chunk);
          ok = socket.write('\r\n', 'latin1');
          socket.uncork();
        } else ok = socket.write(chunk);
        if (!ok) {
          this.client.pause();
          socket.once('drain', () => this.client.resume());
        }
      },
      () => {
        if (this.done) return;
        if (chunked) socket.write('0\r\n\r\n', 'latin1');
        this.bodySent = true;
      },
    );
  }

  // Upstream connection events.
  onData(chunk: Buffer): void {
    this.reader.feed(chunk);
  }

  onEnd(): void {
    this.reader.eof();
  }

  onError(error: Error): void {
    this.fail(`upstream connection failed: ${error.message}`);
  }

  // Response reader events.
  head(h: ResponseHead): void {
    this.response = h;
    if (h.status === 101) {
      this.fail('upstream switched protocols on a request that did not ask to');
      return;
    }
    this.client.writeHead(
      h.status,
      h.reason,
      h.endToEnd,
      h.framing === 'none' ? 'none' : h.framing === 'length' ? 'length' : 'stream',
    );
  }

  data(chunk: Buffer): void {
    if (!this.client.write(chunk) && !this.paused) {
      // The client reads slower than the backend sends: hold the backend until it catches up.
      this.paused = true;
      this.connection.socket.pause();
      this.client.onceDrain(() => this.unpause());
    }
  }

  private paused = false;

  private unpause(): void {
    if (!this.paused) return;
    this.paused = false;
    this.connection.socket.resume();
  }

  end(): void {
    if (this.done) return;
    // The upstream connection goes back first, so a pipelined request after this one can use it.
    this.settle(
      this.response?.status ?? 502,
      (this.response?.keepAlive ?? false) && !this.reader.overrun,
    );
    this.client.end();
  }

  error(error: Error): void {
    this.fail(error.message);
  }

  /** The client went away before the response was complete. */
  clientClosed(): void {
    if (!this.done) this.settle(499, false, 'client closed the connection');
  }

  /** No response head by the deadline. */
  timedOut(timeoutMs: number): void {
    if (this.done || this.response !== undefined) return;
    this.settle(504, false, 'timeout');
    this.client.reply(504, `upstream did not answer within ${timeoutMs} ms`);
  }

  get answered(): boolean {
    return this.response !== undefined;
  }

  private fail(message: string): void {
    if (this.done) return;
    if (this.replayable && this.response === undefined && !this.client.headersSent) {
      const again = this.ctx.retry(this);
      if (again !== undefined) {
        this.abandon();
        again();
        return;
      }
    }
    if (!this.client.headersSent) {
      this.settle(502, false, message);
      this.client.reply(502, message);
    } else {
      this.settle(this.response?.status ?? 502, false, message);
      this.client.destroy();
    }
  }

  /** Gives up this attempt without an answer: the request goes to another backend. */
  private abandon(): void {
    this.done = true;
    this.backend.outstanding--;
    this.unpause();
    this.connection.user = undefined;
    this.connection.socket.destroy();
    this.ctx.finished(this);
  }

  private settle(status: number, reusable: boolean, error?: string): void {
    if (this.done) return;
    this.done = true;
    const backend = this.backend;
    backend.outstanding--;
    // A connection goes back to the pool flowing, whatever state the response left it in.
    this.unpause();
    if (reusable && this.bodySent) backend.release(this.connection);
    else {
      this.connection.user = undefined;
      this.connection.socket.destroy();
    }
    const seconds = (performance.now() - this.start) / 1000;
    this.ctx.metrics.observe(this.series, status, seconds);
    this.ctx.finished(this);
    const log = this.ctx.accessLog;
    if (log === undefined) return;
    log({
      time: new Date().toISOString(),
      remote: this.client.remoteAddress,
      method: this.req.method,
      host: this.host,
      path: this.path,
      status,
      durationMs: seconds * 1000,
      route: this.route.id,
      service: this.route.pool,
      instance: backend.endpoint.instance,
      revision: backend.endpoint.revision,
      ...(error === undefined ? {} : { error }),
    });
  }
}
