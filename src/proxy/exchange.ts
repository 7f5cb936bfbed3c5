import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import type { AccessLog } from './access-log.js';
import { endToEnd, headerValue } from './headers.js';
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
  /** Answers with a response of the proxy's own (502, 504...). */
  replyRaw(res: ServerResponse, status: number, message: string): void;
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
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
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
    this.reader = new ResponseReader(this, req.method === 'HEAD');
    const raw = req.rawHeaders;
    const body =
      headerValue(raw, 'transfer-encoding') !== undefined
        ? 'chunked'
        : headerValue(raw, 'content-length');
    this.bodySent = body === undefined || body === '0';
    this.replayable = this.bodySent && IDEMPOTENT.has(req.method ?? '');
    connection.user = this;
    connection.socket.write(this.requestHead(body));
    if (!this.bodySent) this.sendBody(body === 'chunked');
  }

  private requestHead(body: string | undefined): string {
    const req = this.req;
    const originalHost = req.headers.host ?? this.host;
    let head = `${req.method} ${this.path} HTTP/1.1\r\nHost: ${originalHost}\r\n`;
    const headers = endToEnd(req.rawHeaders, REWRITTEN);
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    const forwardedFor = req.headers['x-forwarded-for'];
    const client = req.socket.remoteAddress ?? '';
    head += `X-Forwarded-For: ${forwardedFor ? `${forwardedFor}, ${client}` : client}\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: ${originalHost}\r\n`;
    if (body === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
    else if (body !== undefined) head += `Content-Length: ${body}\r\n`;
    return `${head}\r\n`;
  }

  /** Streams the request body with backpressure, framed as the client framed it. */
  private sendBody(chunked: boolean): void {
    const socket = this.connection.socket;
    this.req.on('data', (chunk: Buffer) => {
      const ok = chunked
        ? socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`, 'latin1')
        : socket.write(chunk);
      if (!ok) {
        this.req.pause();
        socket.once('drain', () => this.req.resume());
      }
    });
    this.req.once('end', () => {
      if (chunked) socket.write('0\r\n\r\n');
      this.bodySent = true;
    });
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
    this.res.writeHead(h.status, h.reason || undefined, h.endToEnd);
  }

  data(chunk: Buffer): void {
    if (!this.res.write(chunk) && !this.paused) {
      // The client reads slower than the backend sends: hold the backend until it catches up.
      this.paused = true;
      this.connection.socket.pause();
      this.res.once('drain', () => this.unpause());
    }
  }

  private paused = false;

  private unpause(): void {
    if (!this.paused) return;
    this.paused = false;
    this.connection.socket.resume();
  }

  end(): void {
    this.res.end();
    this.settle(
      this.response?.status ?? 502,
      (this.response?.keepAlive ?? false) && !this.reader.overrun,
    );
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
    this.ctx.replyRaw(this.res, 504, `upstream did not answer within ${timeoutMs} ms`);
    this.settle(504, false, 'timeout');
  }

  get answered(): boolean {
    return this.response !== undefined;
  }

  private fail(message: string): void {
    if (this.done) return;
    if (this.replayable && this.response === undefined && !this.res.headersSent) {
      const again = this.ctx.retry(this);
      if (again !== undefined) {
        this.abandon();
        again();
        return;
      }
    }
    if (!this.res.headersSent) {
      this.ctx.replyRaw(this.res, 502, message);
      this.settle(502, false, message);
    } else {
      this.res.destroy();
      this.settle(this.response?.status ?? 502, false, message);
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
      remote: this.req.socket.remoteAddress ?? '',
      method: this.req.method ?? '',
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
