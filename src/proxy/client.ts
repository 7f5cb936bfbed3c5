import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import type { HttpParser, OnHeadersComplete } from './llhttp.js';
import { HTTPParser, methods } from './llhttp.js';

/** One request as a client sent it: its head, and its body as it arrives. */
export class ClientRequest {
  /** Body chunks parsed before anyone reads them (or all of them, until then). */
  private pending: Buffer[] = [];
  private reader: ((chunk: Buffer) => void) | undefined;
  private onComplete: (() => void) | undefined;
  /** The whole message, body included, has been parsed. */
  complete = false;

  constructor(
    readonly connection: ClientConnection,
    readonly method: string,
    readonly url: string,
    /** Flat [name, value, ...] as received. */
    readonly rawHeaders: string[],
    /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
    readonly minor: number,
    /** Whether the client keeps the connection for another request after this one. */
    readonly keepAlive: boolean,
  ) {}

  /** The first value of a header, by lower-case name. */
  header(lowerName: string): string | undefined {
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2)
      if (
        (raw[i] as string).length === lowerName.length &&
        (raw[i] as string).toLowerCase() === lowerName
      )
        return raw[i + 1];
    return undefined;
  }

  /** Every value of a header, joined with commas (as `http` does for X-Forwarded-For). */
  joined(lowerName: string): string | undefined {
    let value: string | undefined;
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      if (name.length !== lowerName.length || name.toLowerCase() !== lowerName) continue;
      value = value === undefined ? raw[i + 1] : `${value}, ${raw[i + 1]}`;
    }
    return value;
  }

  /** Hands the body to `read`, chunk by chunk (what arrived so far at once), then calls `end`. */
  readBody(read: (chunk: Buffer) => void, end: () => void): void {
    for (const chunk of this.pending) read(chunk);
    this.pending = [];
    if (this.complete) return end();
    this.reader = read;
    this.onComplete = end;
  }

  /** @internal From the parser. */
  body(chunk: Buffer): void {
    if (this.reader !== undefined) this.reader(chunk);
    else this.pending.push(chunk);
  }

  /** @internal From the parser. */
  finish(): void {
    this.complete = true;
    const end = this.onComplete;
    this.reader = undefined;
    this.onComplete = undefined;
    end?.();
  }
}

/** What the proxy does with the requests of a connection. */
export interface RequestHandler {
  /** Answer this request; the connection takes no other until its response has ended. */
  request(req: ClientRequest): void;
  /** A protocol upgrade: the socket is the handler's from now on; `head` is what followed the request. */
  upgrade(req: ClientRequest, socket: Socket, head: Buffer): void;
}

/** How the body of a response is framed towards the client. */
export type BodyKind = 'none' | 'length' | 'stream';

export interface ConnectionLimits {
  /** A request head must be complete this long after it started. */
  readonly headersTimeoutMs: number;
  /** An idle kept-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
}

const CRLF = '\r\n';
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/**
 * One client connection, served the way `http.Server` would, at a fraction of
 * the cost: requests are parsed by Node's own llhttp and answered in order,
 * one at a time (a pipelined request waits, with reading paused, until the
 * one before it is answered); responses are written as raw bytes, the head
 * together with the first body bytes.
 */
export class ClientConnection {
  readonly remoteAddress: string;
  /** The request being answered. */
  active: ClientRequest | undefined;
  /** Told when the client goes away while a request is active. */
  onClientClosed: (() => void) | undefined;
  private readonly parser: HttpParser;
  private readonly queue: ClientRequest[] = [];
  /** The message whose body the parser is reading. */
  private parsing: ClientRequest | undefined;
  /** Header parts the parser handed over before the head was complete (long heads). */
  private partialHeaders: string[] = [];
  private partialUrl = '';
  private upgrading: ClientRequest | undefined;
  private headStartedAt = 0;
  private idleSince: number;
  private closed = false;

  // The response being written.
  private pendingHead: string | undefined;
  private chunked = false;
  private closeAfter = false;
  headersSent = false;

  constructor(
    readonly socket: Socket,
    private readonly handler: RequestHandler,
    private readonly limits: ConnectionLimits,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.idleSince = Date.now();
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.REQUEST, {});
    parser[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
      this.partialHeaders.push(...headers);
      this.partialUrl += url;
    };
    parser[HTTPParser.kOnHeadersComplete] = ((
      major,
      minor,
      headers,
      method,
      url,
      _s,
      _m,
      upgrade,
      keepAlive,
    ) =>
      this.headersComplete(
        major,
        minor,
        headers,
        method,
        url,
        upgrade,
        keepAlive,
      )) as OnHeadersComplete;
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => this.parsing?.body(chunk);
    parser[HTTPParser.kOnMessageComplete] = () => {
      const req = this.parsing;
      this.parsing = undefined;
      req?.finish();
    };
    this.parser = parser;
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose());
  }

  get destroyed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  private readonly onData = (data: Buffer): void => {
    if (this.headStartedAt === 0 && this.parsing === undefined) this.headStartedAt = Date.now();
    this.executing = true;
    const parsed = this.parser.execute(data);
    this.executing = false;
    if (this.freeLater) this.freeParser();
    if (this.closed) return;
    if (typeof parsed !== 'number') return this.badRequest(parsed.code);
    const upgrading = this.upgrading;
    if (upgrading === undefined) return;
    // The rest of the bytes belong to the new protocol: the connection is the handler's now.
    this.upgrading = undefined;
    this.detach();
    if (this.active !== undefined) {
      this.socket.destroy();
      return;
    }
    this.handler.upgrade(upgrading, this.socket, data.subarray(parsed));
  };

  private headersComplete(
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number,
    url: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    // Requests after one that closes the connection are not answered.
    if (this.closed) return 0;
    this.headStartedAt = 0;
    this.idleSince = 0;
    if (headers === undefined) {
      headers = this.partialHeaders;
      this.partialHeaders = [];
    }
    if (!url) {
      url = this.partialUrl;
      this.partialUrl = '';
    }
    const req = new ClientRequest(
      this,
      methods[method] ?? 'GET',
      url,
      headers,
      major === 1 ? minor : 0,
      keepAlive,
    );
    if (upgrade && req.method !== 'CONNECT') {
      this.upgrading = req;
      return 0;
    }
    this.parsing = req;
    if (this.active === undefined) this.start(req);
    else {
      // Pipelined: answered after the ones before it; stop reading until then.
      this.queue.push(req);
      this.socket.pause();
    }
    return 0;
  }

  private start(req: ClientRequest): void {
    this.active = req;
    this.headersSent = false;
    this.pendingHead = undefined;
    this.chunked = false;
    this.closeAfter = !req.keepAlive;
    if (req.method === 'CONNECT') {
      this.closeAfter = true;
      return this.reply(405, 'CONNECT is not supported');
    }
    if (req.minor === 1 && req.header('expect')?.toLowerCase() === '100-continue')
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    this.handler.request(req);
  }

  /**
   * Starts the response to the active request. `kind` says how its body is
   * framed: `length` when the headers carry its Content-Length, `stream`
   * when unknown (chunked to HTTP/1.1 clients, until close to HTTP/1.0 ones).
   */
  writeHead(status: number, reason: string, headers: readonly string[], kind: BodyKind): void {
    let head = `HTTP/1.1 ${status} ${reason || STATUS_CODES[status] || ''}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    if (kind === 'stream') {
      if (this.active?.minor === 1) {
        this.chunked = true;
        head += 'Transfer-Encoding: chunked\r\n';
      } else this.closeAfter = true;
    }
    if (this.closeAfter) head += 'Connection: close\r\n';
    else if (this.active?.minor === 0) head += 'Connection: keep-alive\r\n';
    this.pendingHead = head + CRLF;
    this.headersSent = true;
  }

  /**
   * Writes body bytes; false when the client should be given time to read
   * (wait for drain). `chunk` may be reused by the caller once this returns.
   */
  write(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    const head = this.pendingHead;
    this.pendingHead = undefined;
    if (this.chunked) {
      const size = `${head ?? ''}${chunk.length.toString(16)}\r\n`;
      this.socket.cork();
      this.socket.write(size, 'latin1');
      this.socket.write(Buffer.from(chunk));
      const ok = this.socket.write(CRLF, 'latin1');
      this.socket.uncork();
      return ok;
    }
    if (head === undefined) return this.socket.write(Buffer.from(chunk));
    // One write for the head and the first bytes: one packet for a small response.
    const first = Buffer.allocUnsafe(head.length + chunk.length);
    first.write(head, 0, 'latin1');
    chunk.copy(first, head.length);
    return this.socket.write(first);
  }

  onceDrain(callback: () => void): void {
    this.socket.once('drain', callback);
  }

  /** Ends the response; the next request (if any) is answered after it. */
  end(): void {
    const head = this.pendingHead;
    this.pendingHead = undefined;
    if (this.chunked) {
      if (head !== undefined) this.socket.write(head, 'latin1');
      this.socket.write(LAST_CHUNK);
    } else if (head !== undefined) this.socket.write(head, 'latin1');
    this.finishResponse();
  }

  /** A complete response of the proxy's own: short and plain. */
  reply(status: number, message: string): void {
    if (this.headersSent) return this.destroy();
    const body = `${status} ${STATUS_CODES[status] ?? ''}: ${message}\n`;
    this.writeHead(
      status,
      '',
      [
        'Content-Type',
        'text/plain; charset=utf-8',
        'Content-Length',
        String(Buffer.byteLength(body)),
      ],
      'length',
    );
    this.socket.write(`${this.pendingHead ?? ''}${body}`);
    this.pendingHead = undefined;
    this.finishResponse();
  }

  /** Cuts the connection (a response that cannot be completed). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Stops reading from the client (its body waits for the backend). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (this.queue.length === 0) this.socket.resume();
  }

  /**
   * Closes the connection when it has been idle (or sending a head) too long.
   * Called by the proxy's timer.
   */
  expire(now: number): void {
    if (this.closed) return;
    if (this.headStartedAt !== 0 && now - this.headStartedAt > this.limits.headersTimeoutMs) {
      if (this.active === undefined) {
        this.closeAfter = true;
        this.active = new ClientRequest(this, 'GET', '/', [], 1, false);
        this.reply(408, 'the request head took too long');
      } else this.destroy();
      return;
    }
    if (this.idleSince !== 0 && now - this.idleSince > this.limits.keepAliveTimeoutMs)
      this.destroy();
  }

  private finishResponse(): void {
    this.active = undefined;
    this.onClientClosed = undefined;
    if (this.closeAfter) {
      this.closed = true;
      this.detach();
      this.socket.end();
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) {
      if (this.queue.length === 0) this.socket.resume();
      return this.start(next);
    }
    if (this.parsing === undefined) this.idleSince = Date.now();
  }

  private badRequest(code: string | undefined): void {
    if (this.active !== undefined || this.closed) return this.destroy();
    this.closeAfter = true;
    this.active = new ClientRequest(this, 'GET', '/', [], 1, false);
    if (code === 'HPE_HEADER_OVERFLOW') this.reply(431, 'the request head is too large');
    else this.reply(400, 'malformed request');
  }

  private detach(): void {
    this.socket.removeListener('data', this.onData);
    this.freeParser();
  }

  private freed = false;
  private executing = false;
  private freeLater = false;

  /** Frees the parser, once, and never from inside its own callbacks. */
  private freeParser(): void {
    if (this.freed) return;
    if (this.executing) {
      this.freeLater = true;
      return;
    }
    this.freed = true;
    this.parser.free();
  }

  private onClose(): void {
    this.closed = true;
    this.freeParser();
    this.queue.length = 0;
    const listener = this.onClientClosed;
    this.onClientClosed = undefined;
    this.active = undefined;
    listener?.();
  }
}
