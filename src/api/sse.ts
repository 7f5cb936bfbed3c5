import type { EngineEvent } from '../engine/types.js';

import type { ErrorBody } from './errors.js';

export interface SseOptions {
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
  /** Comment lines this often keep idle connections open through proxies and find dead clients. */
  readonly heartbeatMs?: number;
  readonly failure: (error: unknown) => ErrorBody;
}

/**
 * Events as Server-Sent Events: `id:` is the event's seq, so a client (an
 * EventSource does it by itself) resumes with `Last-Event-ID` and misses
 * nothing. The stream ends, and the engine's iteration with it, when the
 * client goes away; a failure of the iteration is a last `event: error`.
 */
export function sseResponse(
  events: (signal: AbortSignal) => AsyncIterable<EngineEvent>,
  options: SseOptions,
): Response {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  const onGone = (): void => stop.abort();
  options.signal.addEventListener('abort', onGone, { once: true });
  const iterator = events(stop.signal)[Symbol.asyncIterator]();
  let heartbeat: NodeJS.Timeout | undefined;
  let cancelled = false;
  const finish = (): void => {
    clearInterval(heartbeat);
    options.signal.removeEventListener('abort', onGone);
    stop.abort();
  };

  const nextChunk = async (): Promise<{ text?: string; last: boolean }> => {
    try {
      const next = await iterator.next();
      if (next.done) return { last: true };
      return {
        text: `id: ${next.value.seq}\ndata: ${JSON.stringify(next.value)}\n\n`,
        last: false,
      };
    } catch (error) {
      // An iteration ended because the client went away is no failure.
      if (stop.signal.aborted) return { last: true };
      return {
        text: `event: error\ndata: ${JSON.stringify(options.failure(error))}\n\n`,
        last: true,
      };
    }
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // A first byte at once: the client knows it is connected before any event.
      controller.enqueue(encoder.encode(': connected\n\n'));
      heartbeat = setInterval(
        () => controller.enqueue(encoder.encode(': keep-alive\n\n')),
        options.heartbeatMs ?? 15_000,
      );
    },
    async pull(controller) {
      const { text, last } = await nextChunk();
      if (cancelled) return;
      if (text !== undefined) controller.enqueue(encoder.encode(text));
      if (last) {
        finish();
        controller.close();
      }
    },
    cancel() {
      cancelled = true;
      finish();
      // Not awaited: an iteration that ignores its signal must not hold the connection.
      iterator.return?.().catch((error: unknown) => void options.failure(error));
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    },
  });
}
