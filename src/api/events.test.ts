import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createApi } from './app.js';
import type { ApiServer } from './server.js';
import { startApiServer } from './server.js';
import { bodyLines, FakeEngine, tempStore } from './testing/index.js';
import { TokenStore } from './tokens.js';

let env: ReturnType<typeof tempStore>;
let tokens: TokenStore;
let token: string;
let engine: FakeEngine;
let app: ReturnType<typeof createApi>;

beforeAll(async () => {
  env = tempStore();
  tokens = new TokenStore(env.store);
  token = (await tokens.create('viewer', 'dash', 'test')).token;
});
afterAll(() => env.dispose());
beforeEach(() => {
  engine = new FakeEngine();
  engine.record({ stack: 'hello', message: 'one' });
  engine.record({ stack: 'other', message: 'two' });
  engine.record({ stack: 'hello', message: 'three' });
  app = createApi({ engine, auth: tokens, heartbeatMs: 60_000 });
});

const auth = (extra: Record<string, string> = {}) => ({
  headers: { authorization: `Bearer ${token}`, ...extra },
});

interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
}

/** SSE messages (comments skipped) as they arrive. */
async function* messages(response: Response): AsyncGenerator<SseMessage> {
  let current: SseMessage = {};
  for await (const line of bodyLines(response)) {
    if (line === '') {
      if (Object.keys(current).length > 0) yield current;
      current = {};
    } else if (!line.startsWith(':')) {
      const [field, ...rest] = line.split(': ');
      current = { ...current, [field as keyof SseMessage]: rest.join(': ') };
    }
  }
}

async function take(stream: AsyncGenerator<SseMessage>, n: number): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  while (out.length < n) {
    const next = await stream.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe('GET /api/events', () => {
  it('lists recorded events after since, for one stack or all', async () => {
    const all = (await (await app.request('/api/events', auth())).json()) as { seq: number }[];
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3]);
    const some = await app.request('/api/events?since=1&stack=hello', auth());
    expect(((await some.json()) as { message: string }[]).map((e) => e.message)).toEqual(['three']);
  });
});

describe('GET /api/events/stream', () => {
  it('sends history then live events, with id = seq', async () => {
    const response = await app.request('/api/events/stream?since=1', auth());
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const stream = messages(response);
    const history = await take(stream, 2);
    expect(history.map((m) => m.id)).toEqual(['2', '3']);
    expect(JSON.parse(history[1]?.data ?? '')).toMatchObject({ seq: 3, message: 'three' });
    engine.record({ stack: 'hello', message: 'four' });
    const [live] = await take(stream, 1);
    expect(live).toMatchObject({ id: '4' });
    expect(JSON.parse(live?.data ?? '')).toMatchObject({ message: 'four' });
    await stream.return(undefined);
  });

  it('resumes after Last-Event-ID, which wins over ?since', async () => {
    const response = await app.request(
      '/api/events/stream?since=0',
      auth({ 'last-event-id': '2' }),
    );
    const stream = messages(response);
    expect((await take(stream, 1)).map((m) => m.id)).toEqual(['3']);
    await stream.return(undefined);
    const bad = await app.request('/api/events/stream', auth({ 'last-event-id': 'x' }));
    expect(bad.status).toBe(400);
  });

  it('ends the engine iteration when the client goes away', async () => {
    const signals: AbortSignal[] = [];
    const events = engine.events.bind(engine);
    engine.events = (options) => {
      if (options.signal) signals.push(options.signal);
      return events(options);
    };
    const response = await app.request('/api/events/stream?since=3', auth());
    const reader = response.body?.getReader();
    await reader?.read();
    expect(signals.map((s) => s.aborted)).toEqual([false]);
    await reader?.cancel();
    expect(signals.map((s) => s.aborted)).toEqual([true]);
  });

  it('ends with event: error when the iteration fails', async () => {
    engine.events = async function* () {
      yield* [];
      throw new Error('compacted');
    };
    const stream = messages(await app.request('/api/events/stream', auth()));
    expect(await take(stream, 2)).toEqual([
      {
        event: 'error',
        data: JSON.stringify({
          error: { code: 'INTERNAL', message: 'internal error; the daemon log has the details' },
        }),
      },
    ]);
  });
});

describe('over a real server', () => {
  let server: ApiServer;
  beforeEach(async () => {
    server = await startApiServer(app, { port: 0 });
  });

  it('listens on loopback and answers /healthz', async () => {
    expect(server.address.host).toBe('127.0.0.1');
    const response = await fetch(`${server.address.url}/healthz`);
    expect(await response.json()).toEqual({ ok: true });
    await server.close();
  });

  it('ends the event iteration when the client disconnects, and close() ends open streams', async () => {
    const signals: AbortSignal[] = [];
    const events = engine.events.bind(engine);
    engine.events = (options) => {
      if (options.signal) signals.push(options.signal);
      return events(options);
    };
    const abort = new AbortController();
    const first = await fetch(`${server.address.url}/api/events/stream?since=3`, {
      ...auth(),
      signal: abort.signal,
    });
    await first.body?.getReader().read();
    abort.abort();
    await expect.poll(() => signals[0]?.aborted).toBe(true);

    const second = await fetch(`${server.address.url}/api/events/stream?since=3`, auth());
    const lines = bodyLines(second);
    await lines.next();
    await server.close();
    await expect.poll(() => signals[1]?.aborted).toBe(true);
    await expect(async () => {
      for await (const line of lines) void line;
    }).rejects.toThrow();
  });

  it('fails with API_LISTEN when the port is taken', async () => {
    await expect(startApiServer(app, { port: server.address.port })).rejects.toMatchObject({
      code: 'API_LISTEN',
    });
    await server.close();
  });
});

describe('keep-alives', () => {
  it('sends an SSE comment while no event comes', async () => {
    app = createApi({ engine, auth: tokens, heartbeatMs: 10 });
    const response = await app.request('/api/events/stream?since=3', auth());
    const lines = bodyLines(response);
    const seen: string[] = [];
    for await (const line of lines) {
      seen.push(line);
      if (line === ': keep-alive') break;
    }
    expect(seen).toEqual([': connected', '', ': keep-alive']);
  });
});
