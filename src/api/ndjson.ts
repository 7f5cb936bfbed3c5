import type { ApplyResult, EngineEvent } from '../engine/types.js';

import type { ErrorBody } from './errors.js';

export type Operation = (onProgress: (event: EngineEvent) => void) => Promise<ApplyResult>;

type Outcome = { ok: true; result: ApplyResult } | { ok: false; error: unknown };

export interface ProgressOptions {
  readonly failure: (error: unknown) => ErrorBody;
  /** An empty line this often while nothing happens, so idle clients and proxies do not time out. */
  readonly heartbeatMs?: number;
  /** How long to hold the status back for an early failure (it may wait behind another apply). */
  readonly holdMs?: number;
}

/**
 * Runs a long engine operation and answers with NDJSON: one line per progress
 * event as it happens, then `{"result": ApplyResult}`. A failure before the
 * first event (a bad template, an unknown stack) is thrown, so it gets its own
 * HTTP status; once streaming has begun the status is sent, and a failure
 * becomes a last line `{"error": {...}}` instead. Empty lines are keep-alives.
 *
 * The operation is not cancelled when the client goes away: a deployment half
 * done because a terminal closed would be worse than one that finishes. Its
 * events stay in the event log for whoever wants to follow it.
 */
export async function progressResponse(
  run: Operation,
  options: ProgressOptions,
): Promise<Response> {
  const lines: string[] = [];
  let listening = true;
  let wake: (() => void) | undefined;
  let firstEvent: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (firstEvent = resolve));
  const push = (line: string): void => {
    lines.push(line);
    wake?.();
  };
  const onProgress = (event: EngineEvent): void => {
    if (!listening) return;
    push(`${JSON.stringify(event)}\n`);
    firstEvent();
  };
  let outcome: Outcome | undefined;
  const settled = run(onProgress).then(
    (result): Outcome => ({ ok: true, result }),
    (error: unknown): Outcome => ({ ok: false, error }),
  );
  void settled.then((o) => {
    outcome = o;
    wake?.();
  });
  let timer: NodeJS.Timeout | undefined;
  const held = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, options.holdMs ?? 1000, undefined);
  });
  const early = await Promise.race([started.then(() => undefined), settled, held]);
  clearTimeout(timer);
  if (early?.ok === false && lines.length === 0) throw early.error;

  const heartbeat = setInterval(() => {
    if (lines.length === 0) push('\n');
  }, options.heartbeatMs ?? 15_000);
  const stop = (): void => {
    listening = false;
    clearInterval(heartbeat);
  };
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (lines.length === 0 && outcome === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (!listening) return;
      if (lines.length > 0) return controller.enqueue(encoder.encode(lines.splice(0).join('')));
      if (outcome === undefined) return;
      stop();
      const last = outcome.ok ? { result: outcome.result } : options.failure(outcome.error);
      controller.enqueue(encoder.encode(`${JSON.stringify(last)}\n`));
      controller.close();
    },
    cancel() {
      stop();
      lines.length = 0;
    },
  });
  return new Response(body, {
    status: 200,
    headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' },
  });
}

export interface LineStreamOptions {
  /** Aborted when the stream ends for any reason: tells the source to stop. */
  readonly stop: AbortController;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
  readonly failure: (error: unknown) => ErrorBody;
  /** An empty line this often while nothing is sent (default 15 s). */
  readonly heartbeatMs?: number;
}

/**
 * Values of an iteration as NDJSON, one per line as they come, with empty
 * keep-alive lines while idle. It ends when the iteration does, with a last
 * `{"error": …}` line if it fails; when the client goes away the source is
 * told to stop (`stop`) and its iterator is returned.
 */
export function lineStream(values: AsyncIterable<unknown>, options: LineStreamOptions): Response {
  const encoder = new TextEncoder();
  const iterator = values[Symbol.asyncIterator]();
  const onGone = (): void => options.stop.abort();
  options.signal.addEventListener('abort', onGone, { once: true });
  let heartbeat: NodeJS.Timeout | undefined;
  let sent = false;
  let ended = false;
  const finish = (): void => {
    ended = true;
    clearInterval(heartbeat);
    options.signal.removeEventListener('abort', onGone);
    options.stop.abort();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      heartbeat = setInterval(() => {
        if (!sent && !ended) controller.enqueue(encoder.encode('\n'));
        sent = false;
      }, options.heartbeatMs ?? 15_000);
    },
    async pull(controller) {
      let text: string;
      let last = false;
      try {
        const next = await iterator.next();
        if (next.done) last = true;
        text = next.done ? '' : `${JSON.stringify(next.value)}\n`;
      } catch (error) {
        last = true;
        // An iteration ended because the client went away is no failure.
        text = options.stop.signal.aborted ? '' : `${JSON.stringify(options.failure(error))}\n`;
      }
      if (ended) return;
      if (text !== '') {
        sent = true;
        controller.enqueue(encoder.encode(text));
      }
      if (last) {
        finish();
        controller.close();
      }
    },
    cancel() {
      finish();
      // Not awaited: an iteration that ignores its signal must not hold the connection.
      iterator.return?.().catch((error: unknown) => void options.failure(error));
    },
  });
  return new Response(body, {
    status: 200,
    headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' },
  });
}
