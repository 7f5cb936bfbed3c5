import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { InstanceHandle, LogLine, LogOptions, Runtime } from '../runtime/index.js';
import type { Sealer } from '../secrets/index.js';
import { createSealer } from '../secrets/index.js';
import type { Store } from '../store/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Json } from '../template/index.js';

import { revisionAad } from './apply.js';
import type { LogSources } from './logs.js';
import { hiddenValues, serviceLogs } from './logs.js';
import { writeRecordedState } from './records.js';
import { InstanceBook, RevisionBook } from './state.js';
import type { ServiceLogLine } from './types.js';

/**
 * The Runtime at its contract seam, reduced to logs: each instance's lines,
 * and with follow, lines added later by `write`.
 */
class LogRuntime {
  readonly kind = 'process' as const;
  readonly asked: { id: string; options: LogOptions }[] = [];
  private readonly lines = new Map<string, LogLine[]>();
  private readonly waiting = new Set<() => void>();

  write(id: string, line: string, stream: LogLine['stream'] = 'stdout'): void {
    this.lines.set(id, [...(this.lines.get(id) ?? []), { stream, line }]);
    for (const wake of this.waiting) wake();
  }

  async *logs(handle: InstanceHandle, options: LogOptions = {}): AsyncIterable<LogLine> {
    this.asked.push({ id: handle.id, options: { ...options, signal: undefined } });
    const all = (): LogLine[] => this.lines.get(handle.id) ?? [];
    let next = options.tail === undefined ? 0 : Math.max(0, all().length - options.tail);
    for (;;) {
      while (next < all().length) yield all()[next++] as LogLine;
      if (!options.follow || options.signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiting.delete(wake);
          resolve();
        };
        this.waiting.add(wake);
        options.signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }
}

let dir: string;
let store: Store;
let sealer: Sealer;
let runtime: LogRuntime;
let sources: LogSources;
const books = (): { instances: InstanceBook; revisions: RevisionBook } => ({
  instances: new InstanceBook(store),
  revisions: new RevisionBook(store),
});

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drover-logs-'));
  store = openSqliteStore({ path: join(dir, 'state.db') });
  sealer = createSealer(randomBytes(32));
  runtime = new LogRuntime();
  sources = {
    store,
    sealer,
    ...books(),
    runtime: async () => runtime as unknown as Runtime,
    pollMs: 20,
  };
  // Stack `shop`: a secret, and service `web` whose env has a hidden value (a digest in its spec).
  await revision(
    'db-password',
    'Drover::Secret',
    's1',
    { content: { $hidden: 'x' } },
    {
      content: 'correct-horse-battery',
    },
  );
  await revision(
    'web',
    'Drover::Service',
    'r1',
    { env: { TOKEN: { $hidden: 'y' }, MODE: 'prod' } },
    {
      env: { TOKEN: 't0ps3cret', MODE: 'prod' },
    },
  );
  await writeRecordedState(store, {
    stack: 'shop',
    resources: {
      'db-password': recorded('Drover::Secret', 's1', { content: { $hidden: 'x' } }),
      web: recorded('Drover::Service', 'r1', { env: { TOKEN: { $hidden: 'y' }, MODE: 'prod' } }),
    },
  });
  await instance('web-1', 'r1', '2026-01-01T00:00:01.000Z');
  await instance('web-2', 'r1', '2026-01-01T00:00:00.000Z');
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function recorded(type: string, id: string, spec: { [key: string]: Json }) {
  return { type, revision: id, spec, dependsOn: [], deletionPolicy: 'delete' as const };
}

async function revision(
  resource: string,
  type: string,
  id: string,
  spec: { [key: string]: Json },
  properties: unknown,
): Promise<void> {
  await books().revisions.save({
    id,
    stack: 'shop',
    resource,
    type,
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'test',
    templateHash: 'h',
    parameters: {},
    spec,
    sealed: sealer.sealJson(properties, revisionAad('shop', resource, id)),
    dependsOn: [],
    deletionPolicy: 'delete',
    dir,
  });
}

async function instance(id: string, rev: string, startedAt: string): Promise<void> {
  await books().instances.put({
    id,
    stack: 'shop',
    service: 'web',
    revision: rev,
    runtime: 'process',
    port: 1,
    state: 'running',
    createdAt: startedAt,
    handle: { runtime: 'process', id, port: 1, startedAt },
  });
}

async function all(lines: AsyncIterable<ServiceLogLine>): Promise<ServiceLogLine[]> {
  const out: ServiceLogLine[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

describe('serviceLogs', () => {
  it("reads each instance's history, oldest instance first, lines tagged and redacted", async () => {
    runtime.write('web-1', 'token is t0ps3cret');
    runtime.write('web-2', 'db password: correct-horse-battery', 'stderr');
    runtime.write('web-2', 'listening');
    expect(await all(await serviceLogs(sources, 'shop', 'web', { tail: 5 }))).toEqual([
      { instance: 'web-2', stream: 'stderr', line: 'db password: (hidden)' },
      { instance: 'web-2', stream: 'stdout', line: 'listening' },
      { instance: 'web-1', stream: 'stdout', line: 'token is (hidden)' },
    ]);
    expect(runtime.asked.map((a) => a.options.tail)).toEqual([5, 5]);
  });

  it('follows: new lines as they come, and instances that start later', async () => {
    runtime.write('web-1', 'old');
    const stop = new AbortController();
    const lines = (
      await serviceLogs(sources, 'shop', 'web', { follow: true, signal: stop.signal })
    )[Symbol.asyncIterator]();
    expect((await lines.next()).value).toEqual({
      instance: 'web-1',
      stream: 'stdout',
      line: 'old',
    });
    runtime.write('web-2', 'new from web-2 with t0ps3cret');
    expect((await lines.next()).value).toMatchObject({
      instance: 'web-2',
      line: 'new from web-2 with (hidden)',
    });
    // A deploy: a new revision, with a new hidden value, and an instance of it.
    await revision(
      'web',
      'Drover::Service',
      'r2',
      { env: { TOKEN: { $hidden: 'z' } } },
      {
        env: { TOKEN: 'n3w-s3cret' },
      },
    );
    await instance('web-3', 'r2', '2026-01-01T00:00:02.000Z');
    runtime.write('web-3', 'started with n3w-s3cret');
    expect((await lines.next()).value).toEqual({
      instance: 'web-3',
      stream: 'stdout',
      line: 'started with (hidden)',
    });
    stop.abort();
    expect((await lines.next()).done).toBe(true);
  });

  it('says NOT_FOUND for a stack or a service that does not exist', async () => {
    await expect(serviceLogs(sources, 'nope', 'web')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'no stack named nope',
    });
    await expect(serviceLogs(sources, 'shop', 'db-password')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'shop has no service db-password',
    });
  });
});

describe('hiddenValues', () => {
  it('finds the values where the spec has a digest, at any depth', () => {
    const spec = {
      env: { A: { $hidden: 'd' }, B: 'b' },
      args: ['x', { $hidden: 'd' }],
      n: { $hidden: 'd' },
    };
    const properties = {
      env: { A: 'secret-a', B: 'b' },
      args: ['x', 'secret-arg'],
      n: { deep: ['v1', 42] },
    };
    expect(hiddenValues(spec, properties)).toEqual(['secret-a', 'secret-arg', 'v1', '42']);
    expect(hiddenValues({ a: 'x' }, { a: 'x' })).toEqual([]);
  });
});
