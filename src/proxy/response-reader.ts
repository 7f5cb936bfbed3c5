/**
 * Reads HTTP/1.1 responses from an upstream connection, strictly: a response
 * whose framing is ambiguous (two different Content-Lengths, Content-Length
 * with chunked, a malformed chunk) is an error, never a guess, so one
 * response cannot bleed into the next on a kept-alive connection.
 */
export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  /** Flat [name, value, ...] as received. */
  readonly headers: string[];
  /** The same without hop-by-hop headers (those named in Connection included): what is passed on. */
  readonly endToEnd: string[];
  /** Whether the connection can carry another request after this response. */
  readonly keepAlive: boolean;
  /** How the body is delimited: none, by the Content-Length in the headers, chunked, or by close. */
  readonly framing: Framing['kind'];
}

export interface ResponseHandler {
  head(head: ResponseHead): void;
  /** Body bytes; `chunk` is only valid during the call. */
  data(chunk: Buffer): void;
  end(): void;
  error(error: Error): void;
}

const MAX_HEAD = 64 * 1024;

type Framing =
  | { kind: 'none' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked' }
  | { kind: 'close' };

export class ResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResponseError';
  }
}

export class ResponseReader {
  private buffer: Buffer | undefined;
  private state:
    'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'done' = 'head';
  private framing: Framing = { kind: 'none' };
  private chunkLeft = 0;

  constructor(
    private readonly handler: ResponseHandler,
    /** HEAD requests get no body, whatever the headers say. */
    private readonly headRequest: boolean,
  ) {}

  get done(): boolean {
    return this.state === 'done';
  }

  /** Bytes arrived after the response ended: the connection cannot be trusted with another request. */
  overrun = false;

  /** The connection ended: the end of a read-until-close body, else an error unless done. */
  eof(): void {
    if (this.state === 'done') return;
    if (this.state === 'body' && this.framing.kind === 'close') {
      this.finish();
      return;
    }
    this.state = 'done';
    this.handler.error(
      new ResponseError('upstream closed the connection before the response was complete'),
    );
  }

  /** Reads bytes; `chunk` may be reused by the caller once this returns. */
  feed(chunk: Buffer): void {
    let input: Buffer = this.buffer === undefined ? chunk : Buffer.concat([this.buffer, chunk]);
    this.buffer = undefined;
    try {
      while (input.length > 0 && this.state !== 'done') input = this.step(input);
      if (this.state === 'done' && input.length > 0) this.overrun = true;
    } catch (error) {
      this.state = 'done';
      this.handler.error(error as Error);
    }
  }

  /** Consumes what it can from `input` and returns the rest. */
  private step(input: Buffer): Buffer {
    switch (this.state) {
      case 'head': {
        const end = input.indexOf('\r\n\r\n');
        if (end < 0) {
          if (input.length > MAX_HEAD)
            throw new ResponseError('upstream response head is too large');
          this.keep(input);
          return Buffer.alloc(0);
        }
        const informational = this.parseHead(input.toString('latin1', 0, end));
        return informational ? input.subarray(end + 4) : this.startBody(input.subarray(end + 4));
      }
      case 'body': {
        if (this.framing.kind === 'length') {
          const take = Math.min(this.framing.remaining, input.length);
          this.framing.remaining -= take;
          if (take > 0) this.handler.data(input.subarray(0, take));
          if (this.framing.remaining === 0) this.finish();
          return input.subarray(take);
        }
        this.handler.data(input);
        return Buffer.alloc(0);
      }
      case 'chunk-size': {
        const eol = input.indexOf('\r\n');
        if (eol < 0) {
          if (input.length > 1024) throw new ResponseError('malformed chunk size line');
          this.keep(input);
          return Buffer.alloc(0);
        }
        const line = input.toString('latin1', 0, eol);
        const size = /^([0-9a-fA-F]{1,8})(;.*)?$/.exec(line);
        if (!size) throw new ResponseError('malformed chunk size');
        this.chunkLeft = parseInt(size[1] as string, 16);
        this.state = this.chunkLeft === 0 ? 'trailers' : 'chunk-data';
        return input.subarray(eol + 2);
      }
      case 'chunk-data': {
        const take = Math.min(this.chunkLeft, input.length);
        this.handler.data(input.subarray(0, take));
        this.chunkLeft -= take;
        if (this.chunkLeft === 0) this.state = 'chunk-crlf';
        return input.subarray(take);
      }
      case 'chunk-crlf': {
        if (input.length < 2) {
          this.keep(input);
          return Buffer.alloc(0);
        }
        if (input[0] !== 0x0d || input[1] !== 0x0a) throw new ResponseError('malformed chunk end');
        this.state = 'chunk-size';
        return input.subarray(2);
      }
      case 'trailers': {
        // Trailers are dropped: they are rarely used and node's response adds none here.
        const eol = input.indexOf('\r\n');
        if (eol < 0) {
          if (input.length > MAX_HEAD) throw new ResponseError('upstream trailers are too large');
          this.keep(input);
          return Buffer.alloc(0);
        }
        if (eol === 0) this.finish();
        return input.subarray(eol + 2);
      }
      default:
        return Buffer.alloc(0);
    }
  }

  private status = 0;

  /** Parses a head; returns true for an informational (1xx) response to skip. */
  private parseHead(text: string): boolean {
    // Status line: "HTTP/1.x SSS reason"
    if (!text.startsWith('HTTP/1.') || (text[7] !== '0' && text[7] !== '1') || text[8] !== ' ') {
      throw new ResponseError('malformed upstream status line');
    }
    const minor = text[7] === '1' ? 1 : 0;
    const status = Number(text.slice(9, 12));
    const firstEol = text.indexOf('\r\n');
    const statusEnd = firstEol < 0 ? text.length : firstEol;
    if (!(status >= 100 && status <= 999) || (statusEnd > 12 && text[12] !== ' ')) {
      throw new ResponseError('malformed upstream status line');
    }
    if (status >= 100 && status < 200 && status !== 101) return true;
    const reason = statusEnd > 13 ? text.slice(13, statusEnd) : '';
    const headers: string[] = [];
    const forward: string[] = [];
    let listed: string[] | undefined;
    let length: number | undefined;
    let chunked = false;
    let close = minor === 0;
    let at = firstEol < 0 ? text.length : firstEol + 2;
    while (at < text.length) {
      let eol = text.indexOf('\r\n', at);
      if (eol < 0) eol = text.length;
      const colon = text.indexOf(':', at);
      if (colon <= at || colon > eol || !isToken(text, at, colon)) {
        throw new ResponseError('malformed upstream header');
      }
      const name = text.slice(at, colon);
      let from = colon + 1;
      while (from < eol && (text.charCodeAt(from) === 0x20 || text.charCodeAt(from) === 0x09))
        from++;
      let to = eol;
      while (to > from && (text.charCodeAt(to - 1) === 0x20 || text.charCodeAt(to - 1) === 0x09))
        to--;
      const value = text.slice(from, to);
      at = eol + 2;
      headers.push(name, value);
      // Only a few names matter for framing or are hop-by-hop; their lengths let the rest pass cheaply.
      const n = name.length;
      if (!HOP_LENGTHS[n] && n !== 14) {
        forward.push(name, value);
        continue;
      }
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        if (!/^\d{1,15}$/.test(value)) throw new ResponseError('malformed upstream Content-Length');
        if (length !== undefined && length !== Number(value)) {
          throw new ResponseError('conflicting upstream Content-Length');
        }
        length = Number(value);
      } else if (lower === 'transfer-encoding') {
        const codings = value
          .toLowerCase()
          .split(',')
          .map((c) => c.trim());
        if (codings.at(-1) !== 'chunked')
          throw new ResponseError('unsupported upstream Transfer-Encoding');
        chunked = true;
        continue;
      } else if (lower === 'connection') {
        const tokens = value
          .toLowerCase()
          .split(',')
          .map((c) => c.trim());
        if (tokens.includes('close')) close = true;
        if (tokens.includes('keep-alive') && minor === 0) close = false;
        for (const t of tokens)
          if (t !== 'close' && t !== 'keep-alive' && t !== '') (listed ??= []).push(t);
        continue;
      }
      if (HOP_BY_HOP.has(lower)) continue;
      forward.push(name, value);
    }
    let endToEnd = forward;
    if (listed !== undefined) {
      const drop = new Set(listed);
      endToEnd = [];
      for (let i = 0; i < forward.length; i += 2) {
        if (!drop.has((forward[i] as string).toLowerCase()))
          endToEnd.push(forward[i] as string, forward[i + 1] as string);
      }
    }
    if (chunked && length !== undefined)
      throw new ResponseError('upstream sent both Content-Length and chunked');
    this.status = status;
    const noBody = this.headRequest || status === 204 || status === 304 || status === 101;
    this.framing = noBody
      ? { kind: 'none' }
      : chunked
        ? { kind: 'chunked' }
        : length !== undefined
          ? { kind: 'length', remaining: length }
          : { kind: 'close' };
    this.handler.head({
      status,
      reason,
      headers,
      endToEnd,
      keepAlive: !close && this.framing.kind !== 'close' && status !== 101,
      framing: this.framing.kind,
    });
    return false;
  }

  private startBody(rest: Buffer): Buffer {
    switch (this.framing.kind) {
      case 'none':
        this.finish();
        return rest;
      case 'length':
        if (this.framing.remaining === 0) {
          this.finish();
          return rest;
        }
        this.state = 'body';
        return rest;
      case 'chunked':
        this.state = 'chunk-size';
        return rest;
      case 'close':
        this.state = 'body';
        return rest;
    }
  }

  /** Keeps an incomplete piece for the next read: a copy, as the caller's buffer is reused. */
  private keep(input: Buffer): void {
    this.buffer = Buffer.from(input);
  }

  private finish(): void {
    this.state = 'done';
    this.handler.end();
  }

  /** Status of the parsed head (0 before). */
  get statusCode(): number {
    return this.status;
  }
}

/** Characters allowed in an HTTP token (RFC 9110 §5.6.2): no spaces, no separators. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN[c.charCodeAt(0)] = 1;
}

function isToken(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

const HOP_BY_HOP = new Set([
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
]);
/** Lengths of hop-by-hop names (and of transfer-encoding, connection): anything else is passed on unexamined. */
const HOP_LENGTHS: boolean[] = [];
for (const name of [...HOP_BY_HOP, 'transfer-encoding', 'connection'])
  HOP_LENGTHS[name.length] = true;
