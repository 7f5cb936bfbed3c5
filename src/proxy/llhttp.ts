import { createRequire } from 'node:module';

/**
 * Node's own HTTP/1.1 request parser (llhttp, the one `node:http` uses), driven
 * directly. The proxy parses client requests with it instead of going through
 * `http.Server`: the parser is what makes HTTP parsing safe (request smuggling,
 * header limits), while the server's per-request objects and streams cost more
 * than forwarding the request does. Node exposes the binding through its
 * `_http_common` module; its callbacks are indexed by the constants below.
 */
export interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  /** Bytes consumed, or an Error with `code` (e.g. HPE_HEADER_OVERFLOW). */
  execute(data: Buffer): number | (Error & { code?: string; bytesParsed?: number });
  finish(): number | Error | undefined;
  free(): void;
  [callback: number]: unknown;
}

interface HttpParserClass {
  new (): HttpParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
}

const common = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: HttpParserClass;
  methods: readonly string[];
};

export const HTTPParser = common.HTTPParser;
/** Method names by the index the parser reports. */
export const methods = common.methods;

/** Arguments of the headers-complete callback, in the binding's order. */
export type OnHeadersComplete = (
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number,
  url: string | undefined,
  statusCode: number | undefined,
  statusMessage: string | undefined,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number;
