import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { EngineError, InvalidTemplateError } from '../engine/index.js';

import type { ApiLogEntry } from './app.js';
import { createApi } from './app.js';
import { bodyLines, convergedResult, FakeEngine, sampleDrift, tempStore } from './testing/index.js';
import { TokenStore } from './tokens.js';

let env: ReturnType<typeof tempStore>;
let tokens: TokenStore;
let engine: FakeEngine;
let app: ReturnType<typeof createApi>;
let token: string;
const logged: ApiLogEntry[] = [];

beforeAll(async () => {
  env = tempStore();
  tokens = new TokenStore(env.store);
  token = (await tokens.create('admin', 'alice', 'test')).token;
});
afterAll(() => env.dispose());
beforeEach(() => {
  engine = new FakeEngine();
  logged.length = 0;
  app = createApi({ engine, auth: tokens, log: (e) => logged.push(e), heartbeatMs: 60_000 });
});

async function request(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; response: Response }> {
  const response = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const json: unknown = response.headers.get('content-type')?.startsWith('application/x-ndjson')
    ? text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as unknown)
    : text === ''
      ? undefined
      : JSON.parse(text);
  return { status: response.status, json, response };
}

const FILE = '/srv/hello/stack.yaml';

describe('routes call one engine method each', () => {
  it('GET /api/stacks and /api/stacks/:stack', async () => {
    expect((await request('GET', '/api/stacks')).json).toMatchObject([{ stack: 'hello' }]);
    expect((await request('GET', '/api/stacks/hello')).json).toMatchObject({ stack: 'hello' });
    const missing = await request('GET', '/api/stacks/nope');
    expect(missing).toMatchObject({
      status: 404,
      json: { error: { code: 'NOT_FOUND', message: "no stack 'nope'" } },
    });
  });

  it('POST /api/stacks/plan reads -p style text and typed file values', async () => {
    const { status, json } = await request('POST', '/api/stacks/plan', {
      file: FILE,
      stack: 'hello',
      parameters: [
        { name: 'version', value: '2' },
        { name: 'replicas', value: 3 },
      ],
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ stack: 'hello', summary: { create: 1 } });
    expect(engine.calls).toEqual([
      {
        method: 'plan',
        args: [
          {
            file: FILE,
            stack: 'hello',
            parameters: [
              { name: 'version', value: '2', fromText: true, source: 'api' },
              { name: 'replicas', value: 3, fromText: false, source: 'api' },
            ],
          },
        ],
      },
    ]);
  });

  it('GET /api/drift answers a fresh scan, of one stack with ?stack=', async () => {
    expect(await request('GET', '/api/drift')).toMatchObject({ status: 200, json: sampleDrift() });
    expect(await request('GET', '/api/drift?stack=hello')).toMatchObject({
      status: 200,
      json: sampleDrift(),
    });
    expect(engine.calls.filter((c) => c.method === 'drift').map((c) => c.args)).toEqual([
      [{}],
      [{ stack: 'hello' }],
    ]);
  });

  it('passes the token name as who, and query and path values through', async () => {
    await request('POST', '/api/stacks/apply', { file: FILE });
    await request('DELETE', '/api/stacks/hello');
    await request('GET', '/api/instances?stack=hello&service=web');
    await request('GET', '/api/stacks/hello/resources/db.primary/history');
    await request('GET', '/api/stacks/hello/history');
    await request('POST', '/api/stacks/hello/services/web/rollback', { to: 'abc123' });
    await request('POST', '/api/stacks/hello/services/web/rollback');
    await request('POST', '/api/stacks/hello/rollback', { to: 1 });
    await request('GET', '/api/events?since=1&stack=hello');
    expect(engine.calls.map((c) => [c.method, ...c.args])).toEqual([
      ['apply', { file: FILE, parameters: [], who: 'alice' }],
      ['destroy', 'hello', 'alice'],
      ['instances', { stack: 'hello', service: 'web' }],
      ['history', 'hello', 'db.primary'],
      ['stackHistory', 'hello'],
      ['rollbackService', 'hello', 'web', { to: 'abc123', who: 'alice' }],
      ['rollbackService', 'hello', 'web', { who: 'alice' }],
      ['rollbackStack', 'hello', 1, 'alice'],
      ['events', { since: 1, stack: 'hello', follow: false, signal: undefined }],
    ]);
  });
});

describe('errors', () => {
  const problem = (status: number, code: string) => ({ status, json: { error: { code } } });

  it('400 for input that does not fit, naming every problem', async () => {
    expect(await request('POST', '/api/stacks/plan', '{nope')).toMatchObject(
      problem(400, 'INVALID_REQUEST'),
    );
    const bad = await request('POST', '/api/stacks/apply', {
      file: 'relative/stack.yaml',
      parameters: [{ name: '', value: 'x' }],
      extra: true,
    });
    expect(bad).toMatchObject(problem(400, 'INVALID_REQUEST'));
    const details = (bad.json as { error: { details: string[] } }).error.details;
    expect(details).toEqual([
      'body.file: must be an absolute path (the daemon does not share your directory)',
      expect.stringMatching(/^body\.parameters\[0\]\.name: /),
      expect.stringMatching(/^body: Unrecognized key: "extra"/),
    ]);
    expect(await request('GET', '/api/events?since=-1')).toMatchObject(
      problem(400, 'INVALID_REQUEST'),
    );
    expect(await request('POST', '/api/stacks/hello/rollback', { to: 'x' })).toMatchObject(
      problem(400, 'INVALID_REQUEST'),
    );
    expect(await request('GET', '/api/stacks/a%20b/history')).toMatchObject(
      problem(400, 'INVALID_REQUEST'),
    );
    expect(await request('GET', '/api/drift?stack=a%20b')).toMatchObject(
      problem(400, 'INVALID_REQUEST'),
    );
  });

  it('404 for unknown routes and for what the engine does not know', async () => {
    expect(await request('GET', '/api/nothing')).toMatchObject(problem(404, 'NOT_FOUND'));
    expect(await request('GET', '/api/stacks/other/history')).toMatchObject({
      status: 404,
      json: { error: { code: 'NOT_FOUND', message: 'no stack named other' } },
    });
    // A drift scan of a stack that does not exist would find nothing: say so instead.
    expect(await request('GET', '/api/drift?stack=nope')).toMatchObject({
      status: 404,
      json: { error: { code: 'NOT_FOUND', message: "no stack 'nope'" } },
    });
    expect(engine.calls.some((c) => c.method === 'drift')).toBe(false);
    // Before the first event, a failed operation still gets its own status.
    expect(await request('DELETE', '/api/stacks/other')).toMatchObject(problem(404, 'NOT_FOUND'));
  });

  it('422 for template problems, with each diagnostic as a detail line', async () => {
    engine.plan = () =>
      Promise.reject(
        new InvalidTemplateError([
          {
            code: 'UNKNOWN_TYPE',
            message: "unknown resource type 'X'",
            loc: { file: FILE, line: 3, col: 5 },
          },
          { code: 'PARAMETER_VALUE', message: "the template has no parameter 'x'", source: 'api' },
        ]),
      );
    expect(await request('POST', '/api/stacks/plan', { file: FILE })).toEqual({
      status: 422,
      response: expect.anything() as unknown,
      json: {
        error: {
          code: 'TEMPLATE_INVALID',
          message: 'the template has 2 problems',
          details: [
            `${FILE}:3:5: error UNKNOWN_TYPE: unknown resource type 'X'`,
            "api: error PARAMETER_VALUE: the template has no parameter 'x'",
          ],
        },
      },
    });
  });

  it('500 with a generic message for failures of ours, logged with the error', async () => {
    const bug = new TypeError('cannot read properties of undefined (reading secret-path)');
    engine.stacks = () => Promise.reject(bug);
    const { status, json } = await request('GET', '/api/stacks');
    expect(status).toBe(500);
    expect(json).toEqual({
      error: { code: 'INTERNAL', message: 'internal error; the daemon log has the details' },
    });
    expect(JSON.stringify(json)).not.toContain('secret-path');
    expect(logged).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/api/stacks',
        status: 500,
        who: 'alice',
        error: bug,
      }),
    ]);
  });

  it('keeps the code and message of an engine error the table does not list', async () => {
    engine.stackHistory = () =>
      Promise.reject(new EngineError('KEY_INVALID', 'the key is not 32 bytes'));
    expect(await request('GET', '/api/stacks/hello/history')).toMatchObject({
      status: 500,
      json: { error: { code: 'KEY_INVALID', message: 'the key is not 32 bytes' } },
    });
  });

  it('413 for bodies over the limit', async () => {
    app = createApi({ engine, auth: tokens, maxBodyBytes: 100 });
    const big = { file: FILE, parameters: [{ name: 'x', value: 'y'.repeat(200) }] };
    expect(await request('POST', '/api/stacks/plan', big)).toMatchObject(
      problem(413, 'PAYLOAD_TOO_LARGE'),
    );
  });
});

describe('NDJSON progress', () => {
  it('streams each event as it happens, then the result', async () => {
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    engine.script = async (emit) => {
      emit({ resource: 'web', phase: 'starting', message: 'starting' });
      await finished;
      emit({ resource: 'web', phase: 'healthy', message: 'healthy' });
      return convergedResult('hello');
    };
    const response = await app.request('/api/stacks/apply', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ file: FILE }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = bodyLines(response);
    const first = JSON.parse((await lines.next()).value as string) as unknown;
    // The apply is still waiting for the test: this event came before any result.
    expect(first).toMatchObject({ seq: 1, type: 'progress', phase: 'starting', stack: 'hello' });
    finish();
    const rest: unknown[] = [];
    for await (const line of lines) rest.push(JSON.parse(line));
    expect(rest).toEqual([
      expect.objectContaining({ seq: 2, phase: 'healthy' }),
      { result: convergedResult('hello') },
    ]);
  });

  it('ends with an error line when the operation fails after it started', async () => {
    engine.script = async (emit) => {
      emit({ resource: 'web', phase: 'starting', message: 'starting' });
      throw new Error('disk full at /var/secret');
    };
    const { status, json } = await request('POST', '/api/stacks/hello/rollback', { to: 1 });
    expect(status).toBe(200);
    const lines = json as unknown[];
    expect(lines).toHaveLength(2);
    expect(lines.at(-1)).toEqual({
      error: { code: 'INTERNAL', message: 'internal error; the daemon log has the details' },
    });
    expect(logged.some((e) => e.error instanceof Error && e.status === 500)).toBe(true);
  });

  it('starts the stream when the first event is slow, and sends keep-alive lines', async () => {
    app = createApi({ engine, auth: tokens, heartbeatMs: 20 });
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    engine.script = async () => {
      await finished;
      return convergedResult('hello');
    };
    const response = await app.request('/api/stacks/hello', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const lines = bodyLines(response);
    expect((await lines.next()).value).toBe('');
    finish();
    const rest: string[] = [];
    for await (const line of lines) rest.push(line);
    expect(JSON.parse(rest.filter((l) => l !== '').at(-1) ?? '')).toEqual({
      result: convergedResult('hello'),
    });
  });
});
