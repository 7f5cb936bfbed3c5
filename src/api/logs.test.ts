import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { ServiceLogLine, ServiceLogOptions } from '../engine/types.js';

import { createApi } from './app.js';
import { startApiServer } from './server.js';
import { bodyLines, FakeEngine, sampleLogs, tempStore } from './testing/index.js';
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
  app = createApi({ engine, auth: tokens, heartbeatMs: 60_000 });
});

const LOGS = '/api/stacks/hello/services/web/logs';

/** What the engine was asked for, with the signal it was given. */
function recordSignals(): ServiceLogOptions[] {
  const seen: ServiceLogOptions[] = [];
  const logs = engine.logs.bind(engine);
  engine.logs = (stack, service, options = {}) => {
    seen.push(options);
    return logs(stack, service, options);
  };
  return seen;
}

async function* values(response: Response): AsyncGenerator<unknown> {
  for await (const line of bodyLines(response)) if (line !== '') yield JSON.parse(line);
}

describe('GET /api/stacks/:stack/services/:service/logs', () => {
  it("sends the service's lines, each with its instance, as NDJSON, then ends", async () => {
    const response = await app.request(LOGS, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const got: unknown[] = [];
    for await (const value of values(response)) got.push(value);
    expect(got).toEqual(sampleLogs);
  });

  it('passes follow and tail to the engine', async () => {
    const seen = recordSignals();
    const response = await app.request(`${LOGS}?tail=1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const got: unknown[] = [];
    for await (const value of values(response)) got.push(value);
    expect(got).toEqual(sampleLogs.slice(-1));
    expect(seen).toEqual([{ follow: false, tail: 1, signal: expect.any(AbortSignal) as unknown }]);
  });

  it('says 404 for an unknown stack or service, 400 for a bad query', async () => {
    const status = async (path: string): Promise<number> =>
      (await app.request(path, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await status('/api/stacks/other/services/web/logs')).toBe(404);
    expect(await status('/api/stacks/hello/services/db/logs')).toBe(404);
    expect(await status(`${LOGS}?follow=maybe`)).toBe(400);
    expect(await status(`${LOGS}?tail=-1`)).toBe(400);
  });

  it('follows: the history, then new lines as instances write them', async () => {
    const response = await app.request(`${LOGS}?follow=1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const stream = values(response);
    for (const line of sampleLogs) expect((await stream.next()).value).toEqual(line);
    const next: ServiceLogLine = { instance: 'web-77d01e', stream: 'stdout', line: 'GET / 200' };
    engine.log(next);
    expect((await stream.next()).value).toEqual(next);
    await stream.return(undefined);
  });

  it('sends empty keep-alive lines while nothing is written', async () => {
    app = createApi({ engine, auth: tokens, heartbeatMs: 10 });
    const response = await app.request(`${LOGS}?follow=true&tail=0`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const lines = bodyLines(response);
    expect((await lines.next()).value).toBe('');
    await lines.return(undefined);
  });

  it('ends with an error line when reading fails after it started', async () => {
    engine.logs = async () =>
      (async function* () {
        yield sampleLogs[0] as ServiceLogLine;
        throw new Error('EIO reading /home/drover/logs/secret-path');
      })();
    const response = await app.request(LOGS, { headers: { authorization: `Bearer ${token}` } });
    const got: unknown[] = [];
    for await (const value of values(response)) got.push(value);
    expect(got).toEqual([
      sampleLogs[0],
      { error: { code: 'INTERNAL', message: 'internal error; the daemon log has the details' } },
    ]);
  });

  it("ends the engine's reading when the client goes away (over a real server)", async () => {
    const seen = recordSignals();
    const server = await startApiServer(app, { port: 0 });
    try {
      const abort = new AbortController();
      const response = await fetch(`${server.address.url}${LOGS}?follow=1`, {
        headers: { authorization: `Bearer ${token}` },
        signal: abort.signal,
      });
      const reader = response.body?.getReader();
      await reader?.read();
      expect(seen[0]?.signal?.aborted).toBe(false);
      abort.abort();
      await expect.poll(() => seen[0]?.signal?.aborted).toBe(true);
    } finally {
      await server.close();
    }
  });
});
