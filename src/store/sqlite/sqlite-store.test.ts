import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { runStoreContract } from '../contract.case.js';
import { keysOf, readBatches, sleep } from '../contract/helpers.case.js';
import { CompactedError, InvalidArgumentError, StoreBackendError } from '../errors.js';

import type { SqliteStore, SqliteStoreOptions } from './sqlite-store.js';
import { openDefaultStore, openSqliteStore } from './sqlite-store.js';

const run = promisify(execFile);
const childWriter = fileURLToPath(new URL('./testing/child-writer.ts', import.meta.url));
const projectRoot = fileURLToPath(new URL('../../..', import.meta.url));

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'drover-store-'));
}

runStoreContract('sqlite', async () => {
  const dir = await tempDir();
  const path = join(dir, 'state.db');
  const opened: SqliteStore[] = [];
  const open = (): SqliteStore => {
    const store = openSqliteStore({ path });
    opened.push(store);
    return store;
  };
  return {
    store: open(),
    reopen: async () => open(),
    cleanup: async () => {
      for (const store of opened) {
        await store.close();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite store', () => {
  let dir: string | undefined;
  const stores: SqliteStore[] = [];

  /** Opens a store on `state.db` in this test's temp dir (one dir per test). */
  async function open(options: Omit<SqliteStoreOptions, 'path'> = {}): Promise<SqliteStore> {
    dir ??= await tempDir();
    const store = openSqliteStore({ path: join(dir, 'state.db'), ...options });
    stores.push(store);
    return store;
  }

  afterEach(async () => {
    for (const store of stores.splice(0)) {
      await store.close();
    }
    if (dir !== undefined) {
      await rm(dir, { recursive: true, force: true });
      dir = undefined;
    }
  });

  it('keeps the file in WAL mode', async () => {
    const store = await open();
    await store.put('a', '1');
    const raw = new BetterSqlite3(store.path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(1);
    } finally {
      raw.close();
    }
  });

  it('wakes a waiting watcher for the writes of another store on the same file', async () => {
    const watching = await open();
    const writing = await open();
    const watch = readBatches(watching, 'x/');
    const mine = await watching.put('x/0', 'mine');
    expect((await watch.take(1))[0]?.revision).toBe(mine.revision);
    // The watcher is now caught up and asleep: only the poll can tell it about these.
    const waiting = watch.take(2);
    const first = await writing.put('x/1', 'theirs');
    await sleep(60); // let the poll find the first write before the second lands
    await writing.put('x/2', 'theirs');
    const batches = await waiting;
    expect(batches.map((batch) => [batch.revision, batch.events[0]?.kv.key])).toEqual([
      [first.revision, 'x/1'],
      [first.revision + 1, 'x/2'],
    ]);
    await watch.stop();
  });

  it('keeps one revision sequence while two stores write at once', async () => {
    const a = await open();
    const b = await open();
    const start = await a.revision();
    const watch = readBatches(a, '');
    const writer = async (store: SqliteStore, name: string): Promise<void> => {
      for (let i = 0; i < 30; i++) {
        await store.put(`${name}/${i}`, String(i));
        await sleep(i % 3); // lets the other store's writes interleave
      }
    };
    await Promise.all([writer(a, 'a'), writer(b, 'b')]);
    const batches = await watch.take(60);
    expect(batches.map((batch) => batch.revision)).toEqual(
      Array.from({ length: 60 }, (_, i) => start + 1 + i),
    );
    expect(await keysOf(b)).toHaveLength(60);
    await watch.stop();
  });

  it('shows a watcher the writes of a child process', async () => {
    const store = await open();
    const watch = readBatches(store, 'child/');
    // Already waiting when the child writes, so the batches come from polling.
    const waiting = watch.take(20);
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', childWriter, store.path, 'write', 'child/', '20'],
      { cwd: projectRoot },
    );
    const { revisions } = JSON.parse(stdout) as { revisions: number[] };
    const batches = await waiting;
    expect(batches.map((batch) => batch.revision)).toEqual(revisions);
    expect(batches.map((batch) => batch.events[0]?.kv.key)).toEqual(
      Array.from({ length: 20 }, (_, i) => `child/${i}`),
    );
    await watch.stop();
  });

  it('expires the lease of a child process that died', async () => {
    const store = await open({ leaseCheckIntervalMs: 50 });
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', childWriter, store.path, 'crash', 'orphan', '200'],
      { cwd: projectRoot },
    );
    const { lease, revision } = JSON.parse(stdout) as { lease: string; revision: number };
    const watch = readBatches(store, 'orphan', { fromRevision: revision });
    const [put, expiry] = await watch.take(2);
    expect(put?.events[0]?.kv.lease).toBe(lease);
    expect(expiry?.events).toMatchObject([{ type: 'delete', kv: { key: 'orphan' } }]);
    await watch.stop();
  });

  it('expires the leases of a closed store when it is opened again', async () => {
    const first = await open();
    const lease = await first.grantLease(200);
    const put = await first.put('held', 'v', { lease: lease.id });
    await first.close();
    await sleep(300); // past the expiry, with no store open to notice it
    const again = await open({ leaseCheckIntervalMs: 60_000 });
    // The expiry happened while opening, not on a timer.
    expect(await again.get('held')).toBeUndefined();
    expect(await again.revision()).toBe(put.revision + 1);
  });

  it('compacts history beyond historyLimit on its own', async () => {
    const store = await open({ historyLimit: 10 });
    for (let i = 0; i < 50; i++) {
      await store.put(`k${i % 3}`, String(i));
    }
    const current = await store.revision();
    expect((await store.range('', { revision: current - 9 })).kvs).toHaveLength(3);
    await expect(store.range('', { revision: current - 20 })).rejects.toBeInstanceOf(
      CompactedError,
    );
    const raw = new BetterSqlite3(store.path, { readonly: true });
    try {
      const { rows } = raw.prepare('SELECT COUNT(*) AS rows FROM history').get() as {
        rows: number;
      };
      expect(rows).toBeLessThanOrEqual(10 + 3);
    } finally {
      raw.close();
    }
  });

  it('ends a watch that fell behind compaction with CompactedError', async () => {
    const store = await open({ historyLimit: 5 });
    const watch = readBatches(store, '');
    for (let i = 0; i < 20; i++) {
      await store.put('k', String(i));
    }
    await expect(watch.take(1)).rejects.toBeInstanceOf(CompactedError);
  });

  it('delivers a change bigger than one read chunk as one batch', async () => {
    const store = await open();
    const keys = Array.from({ length: 1500 }, (_, i) => ({
      type: 'put' as const,
      key: `big/${String(i).padStart(4, '0')}`,
      value: 'v',
    }));
    const first = await store.txn({ compare: [], success: keys });
    await store.put('big/after', 'v');
    await store.deletePrefix('big/');
    const watch = readBatches(store, 'big/', { fromRevision: first.revision });
    const [created, after, deleted] = await watch.take(3);
    expect(created?.events).toHaveLength(1500);
    expect(after?.events).toHaveLength(1);
    expect(deleted?.events).toHaveLength(1501);
    await watch.stop();
  });

  it('refuses bad options', async () => {
    await expect(open({ historyLimit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(open({ pollIntervalMs: 0.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('wraps SQLite failures in StoreBackendError with the cause', async () => {
    dir = await tempDir();
    const garbage = join(dir, 'garbage.db');
    await writeFile(garbage, 'this is not a database, just text long enough to have a header');
    const error = (() => {
      try {
        openSqliteStore({ path: garbage });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StoreBackendError);
    expect((error as StoreBackendError).cause).toBeInstanceOf(Error);
    expect(() => openSqliteStore({ path: join(dir ?? '', 'missing', 'state.db') })).toThrow(
      StoreBackendError,
    );
  });

  it('refuses a file written by a newer schema', async () => {
    dir = await tempDir();
    const path = join(dir, 'state.db');
    const raw = new BetterSqlite3(path);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openSqliteStore({ path })).toThrow(/schema version 99/);
  });

  it('opens <home>/state.db, creating the home private', async () => {
    dir = await tempDir();
    const home = join(dir, 'nested', 'home');
    const store = openDefaultStore(home);
    stores.push(store);
    await store.put('a', '1');
    expect(store.path).toBe(join(home, 'state.db'));
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    expect((await stat(store.path)).isFile()).toBe(true);
  });
});
