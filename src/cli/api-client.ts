import type { TokenInfo } from '../api/index.js';
import type {
  ApplyResult,
  EngineEvent,
  InstanceInfo,
  RevisionInfo,
  ServiceLogLine,
  StackRevisionInfo,
  StackStatus,
} from '../engine/types.js';
import type { StackGraph } from '../graph/index.js';
import type { Plan } from '../plan/index.js';
import type { DriftReport } from '../reconcile/index.js';
import type { Endpoint, Route } from '../registry/index.js';

import {
  ApiRequestError,
  DaemonConnectionLostError,
  DaemonProtocolError,
  DaemonUnreachableError,
} from './errors.js';
import { lines, sseMessages } from './wire.js';

export interface StackRequestBody {
  /** Absolute: the daemon does not share the CLI's working directory. */
  readonly file: string;
  readonly stack?: string;
  /** Text from -p, typed values from --parameters files. */
  readonly parameters: readonly { readonly name: string; readonly value: unknown }[];
}

export type OnEvent = (event: EngineEvent) => void;

/** A token as the daemon lists it (never its secret). */
export type { TokenInfo };

export interface ApiClientOptions {
  readonly baseUrl: string;
  readonly token?: string;
  /** Where the token came from, for the message when the daemon refuses it. */
  readonly tokenSource: string;
}

/** The daemon's REST API, as the CLI uses it (see src/api/README.md). */
export class ApiClient {
  readonly baseUrl: string;

  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  stacks(): Promise<StackStatus[]> {
    return this.json('GET', '/api/stacks');
  }

  stack(name: string): Promise<StackStatus> {
    return this.json('GET', `/api/stacks/${enc(name)}`);
  }

  plan(body: StackRequestBody): Promise<Plan> {
    return this.json('POST', '/api/stacks/plan', body);
  }

  apply(body: StackRequestBody, onEvent: OnEvent): Promise<ApplyResult> {
    return this.progress('POST', '/api/stacks/apply', body, onEvent);
  }

  destroy(stack: string, onEvent: OnEvent): Promise<ApplyResult> {
    return this.progress('DELETE', `/api/stacks/${enc(stack)}`, undefined, onEvent);
  }

  instances(filter: { stack?: string; service?: string }): Promise<InstanceInfo[]> {
    return this.json('GET', `/api/instances${query(filter)}`);
  }

  /** A fresh drift scan: the daemon looks at the running instances now. */
  drift(filter: { stack?: string }): Promise<DriftReport> {
    return this.json('GET', `/api/drift${query(filter)}`);
  }

  history(stack: string, resource: string): Promise<RevisionInfo[]> {
    return this.json('GET', `/api/stacks/${enc(stack)}/resources/${enc(resource)}/history`);
  }

  stackHistory(stack: string): Promise<StackRevisionInfo[]> {
    return this.json('GET', `/api/stacks/${enc(stack)}/history`);
  }

  graph(stack: string): Promise<StackGraph> {
    return this.json('GET', `/api/stacks/${enc(stack)}/graph`);
  }

  rollbackService(
    stack: string,
    service: string,
    to: string | undefined,
    onEvent: OnEvent,
  ): Promise<ApplyResult> {
    const path = `/api/stacks/${enc(stack)}/services/${enc(service)}/rollback`;
    return this.progress('POST', path, to === undefined ? {} : { to }, onEvent);
  }

  rollbackStack(stack: string, to: number, onEvent: OnEvent): Promise<ApplyResult> {
    return this.progress('POST', `/api/stacks/${enc(stack)}/rollback`, { to }, onEvent);
  }

  events(filter: { since?: number; stack?: string }): Promise<EngineEvent[]> {
    return this.json('GET', `/api/events${query(filter)}`);
  }

  routes(filter: { stack?: string }): Promise<Route[]> {
    return this.json('GET', `/api/routes${query(filter)}`);
  }

  endpoints(filter: { stack?: string; service?: string }): Promise<Endpoint[]> {
    return this.json('GET', `/api/endpoints${query(filter)}`);
  }

  /** A new token: its secret is in this answer and never again. */
  createToken(body: { role: string; name?: string }): Promise<TokenInfo & { token: string }> {
    return this.json('POST', '/api/tokens', body);
  }

  tokens(): Promise<TokenInfo[]> {
    return this.json('GET', '/api/tokens');
  }

  revokeToken(id: string): Promise<{ revoked: TokenInfo }> {
    return this.json('DELETE', `/api/tokens/${enc(id)}`);
  }

  /**
   * A service's output, merged across its instances; with `follow`, until
   * `signal` aborts (a connection lost meanwhile is an error).
   */
  async *logs(
    stack: string,
    service: string,
    options: { follow: boolean; tail?: number },
    signal: AbortSignal,
  ): AsyncGenerator<ServiceLogLine> {
    const path = `/api/stacks/${enc(stack)}/services/${enc(service)}/logs${query({
      follow: options.follow ? 1 : undefined,
      tail: options.tail,
    })}`;
    const response = await this.send('GET', path, undefined, signal);
    const body = this.body(response, 'application/x-ndjson');
    try {
      for await (const line of lines(body)) {
        if (line.trim() === '') continue; // keep-alive
        const item = this.parse(line) as { error?: unknown };
        if (item.error !== undefined) throw streamError(item);
        yield item as ServiceLogLine;
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiRequestError || error instanceof DaemonProtocolError) throw error;
      throw new DaemonConnectionLostError(this.baseUrl, { cause: error });
    }
    // Without follow the daemon ends the stream; with it, only a daemon going away does.
    if (options.follow && !signal.aborted) throw new DaemonConnectionLostError(this.baseUrl);
  }

  /** Recorded events after `since`, then live ones, until `signal` aborts or the daemon ends the stream. */
  async *follow(
    filter: { since?: number; stack?: string },
    signal: AbortSignal,
  ): AsyncGenerator<EngineEvent> {
    const response = await this.send(
      'GET',
      `/api/events/stream${query(filter)}`,
      undefined,
      signal,
    );
    const body = this.body(response, 'text/event-stream');
    try {
      for await (const message of sseMessages(body)) {
        const data = this.parse(message.data);
        if (message.event === 'error') throw streamError(data);
        yield data as EngineEvent;
      }
    } catch (error) {
      // Ctrl-C ends the stream mid-read: that is how following stops, not a failure.
      if (signal.aborted) return;
      if (error instanceof ApiRequestError || error instanceof DaemonProtocolError) throw error;
      throw new DaemonConnectionLostError(this.baseUrl, { cause: error });
    }
    if (!signal.aborted) throw new DaemonConnectionLostError(this.baseUrl);
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    this.body(response, 'application/json');
    return this.parse(await response.text().catch(this.lost)) as T;
  }

  /** An NDJSON operation: events go to `onEvent`, the last line is the result or an error. */
  private async progress(
    method: string,
    path: string,
    body: unknown,
    onEvent: OnEvent,
  ): Promise<ApplyResult> {
    const response = await this.send(method, path, body);
    const stream = this.body(response, 'application/x-ndjson');
    try {
      for await (const line of lines(stream)) {
        if (line.trim() === '') continue; // keep-alive
        const item = this.parse(line) as { result?: ApplyResult; error?: unknown };
        if (item.result !== undefined) return item.result;
        if (item.error !== undefined) throw streamError(item);
        onEvent(item as EngineEvent);
      }
    } catch (error) {
      if (error instanceof ApiRequestError || error instanceof DaemonProtocolError) throw error;
      throw this.lost(error);
    }
    throw new DaemonProtocolError(this.baseUrl, 'the stream ended without a result');
  }

  private async send(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token !== undefined) headers['authorization'] = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new DaemonUnreachableError(this.baseUrl, { cause: error });
    }
    if (response.ok) return response;
    const text = await response.text().catch(this.lost);
    const failure = (this.tryParse(text) as { error?: unknown } | undefined)?.error;
    if (!isErrorShape(failure)) {
      throw new DaemonProtocolError(this.baseUrl, `HTTP ${response.status} ${text.slice(0, 80)}`);
    }
    const message =
      failure.code === 'UNAUTHENTICATED'
        ? `${failure.message} (token from ${this.options.tokenSource})`
        : failure.message;
    throw new ApiRequestError(failure.code, message, failure.details ?? [], response.status);
  }

  private body(response: Response, type: string): ReadableStream<Uint8Array> {
    const got = response.headers.get('content-type') ?? '';
    if (!got.startsWith(type) || response.body === null) {
      throw new DaemonProtocolError(this.baseUrl, `expected ${type}, got '${got}'`);
    }
    return response.body;
  }

  private parse(text: string): unknown {
    const value = this.tryParse(text);
    if (value === undefined) {
      throw new DaemonProtocolError(this.baseUrl, `not JSON: ${text.slice(0, 80)}`);
    }
    return value;
  }

  private tryParse(text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  /** The connection broke mid-answer: the daemon stopped or restarted. */
  private readonly lost = (error: unknown): never => {
    throw new DaemonConnectionLostError(this.baseUrl, { cause: error });
  };
}

interface ErrorShape {
  code: string;
  message: string;
  details?: string[];
}

function isErrorShape(value: unknown): value is ErrorShape {
  const v = value as Partial<ErrorShape> | undefined;
  return typeof v?.code === 'string' && typeof v.message === 'string';
}

function streamError(item: unknown): ApiRequestError {
  const failure = (item as { error?: unknown } | undefined)?.error;
  if (!isErrorShape(failure))
    return new ApiRequestError('INTERNAL', 'the daemon reported a failure');
  return new ApiRequestError(failure.code, failure.message, failure.details ?? []);
}

const enc = encodeURIComponent;

function query(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
