// The daemon's API as the page uses it. Every call carries the token in the
// Authorization header; the event stream too, which is why it is read with
// fetch() and not EventSource (that cannot send headers).

/**
 * @typedef {import('../../engine/types.js').EngineEvent} EngineEvent
 * @typedef {import('../../engine/types.js').ApplyResult} ApplyResult
 */

/** A refusal or failure the API described: `{ error: { code, message } }`. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * An error out of a failed response, whatever its body.
 * @param {Response} response
 */
async function failure(response) {
  const text = await response.text().catch(() => '');
  try {
    const { error } = /** @type {{ error?: { code?: string, message?: string } }} */ (
      JSON.parse(text)
    );
    return new ApiError(
      response.status,
      error?.code ?? 'HTTP',
      error?.message ?? `HTTP ${response.status}`,
    );
  } catch {
    return new ApiError(response.status, 'HTTP', `HTTP ${response.status} ${text.slice(0, 80)}`);
  }
}

/**
 * Lines of a streamed body as they arrive.
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<string>}
 */
async function* lines(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffered.indexOf('\n')) >= 0) {
        yield buffered.slice(0, end).replace(/\r$/, '');
        buffered = buffered.slice(end + 1);
      }
    }
    buffered += decoder.decode();
    if (buffered !== '') yield buffered;
  } finally {
    reader.releaseLock();
  }
}

/**
 * Server-Sent Events: fields up to a blank line; comment lines (keep-alives) skipped.
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<{ id?: string, event: string, data: string }>}
 */
export async function* sseMessages(body) {
  /** @type {string | undefined} */
  let id;
  let event = 'message';
  /** @type {string[]} */
  let data = [];
  for await (const line of lines(body)) {
    if (line === '') {
      if (data.length > 0)
        yield { ...(id === undefined ? {} : { id }), event, data: data.join('\n') };
      event = 'message';
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
}

export class Api {
  /** @param {string} token */
  constructor(token) {
    this.token = token;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {{ body?: unknown, signal?: AbortSignal, headers?: Record<string, string> }} [options]
   */
  async send(method, path, options = {}) {
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${this.token}`, ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: 'no-store',
    });
    if (!response.ok) throw await failure(response);
    return response;
  }

  /**
   * A JSON answer.
   * @template T
   * @param {string} path
   * @returns {Promise<T>}
   */
  async get(path) {
    const response = await this.send('GET', path);
    return /** @type {T} */ (await response.json());
  }

  /**
   * A long operation (rollback): events as they happen, then its result.
   * @param {string} method
   * @param {string} path
   * @param {unknown} body
   * @param {(event: EngineEvent) => void} onEvent
   * @returns {Promise<ApplyResult>}
   */
  async operation(method, path, body, onEvent) {
    const response = await this.send(method, path, { body });
    if (response.body === null) throw new ApiError(0, 'PROTOCOL', 'the answer had no body');
    for await (const line of lines(response.body)) {
      if (line.trim() === '') continue; // keep-alive
      const item =
        /** @type {{ result?: ApplyResult, error?: { code: string, message: string } }} */ (
          JSON.parse(line)
        );
      if (item.result !== undefined) return item.result;
      if (item.error !== undefined) throw new ApiError(500, item.error.code, item.error.message);
      onEvent(/** @type {EngineEvent} */ (item));
    }
    throw new ApiError(0, 'PROTOCOL', 'the stream ended without a result');
  }

  /**
   * The event log after `since`, then live events, until the signal aborts or the stream ends.
   * @param {number} since
   * @param {AbortSignal} signal
   * @param {() => void} [onOpen] told when the daemon answered
   * @returns {AsyncGenerator<EngineEvent>}
   */
  async *events(since, signal, onOpen) {
    const response = await this.send('GET', '/api/events/stream', {
      signal,
      headers: { accept: 'text/event-stream', 'last-event-id': String(since) },
    });
    onOpen?.();
    if (response.body === null) return;
    for await (const message of sseMessages(response.body)) {
      const data = /** @type {unknown} */ (JSON.parse(message.data));
      if (message.event === 'error') {
        const error = /** @type {{ error?: { code?: string, message?: string } }} */ (data).error;
        throw new ApiError(500, error?.code ?? 'INTERNAL', error?.message ?? 'the stream failed');
      }
      yield /** @type {EngineEvent} */ (data);
    }
  }
}
