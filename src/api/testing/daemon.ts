import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Store } from '../../store/index.js';
import { openSqliteStore } from '../../store/index.js';
import { ensureAdminToken } from '../admin-token.js';
import { createApi } from '../app.js';
import { startApiServer } from '../server.js';
import { TokenStore } from '../tokens.js';

import { FakeEngine } from './fake-engine.js';

/** A real SQLite store in a fresh temp dir, and a way to remove both. */
export function tempStore(): { store: Store; home: string; dispose: () => Promise<void> } {
  const home = mkdtempSync(join(tmpdir(), 'drover-api-'));
  const store = openSqliteStore({ path: join(home, 'state.db') });
  return {
    store,
    home,
    dispose: async () => {
      await store.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The lines of a streamed body as they arrive (empty keep-alive lines included). */
export async function* bodyLines(response: Response): AsyncGenerator<string> {
  if (response.body === null) return;
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered !== '') yield buffered;
}

export interface TestDaemon {
  readonly engine: FakeEngine;
  readonly tokens: TokenStore;
  /** A $DROVER_HOME with state.db and the admin.token the CLI reads. */
  readonly home: string;
  readonly url: string;
  close(): Promise<void>;
}

/** The API over a FakeEngine on a real HTTP server (port 0), as `drover serve` would run it. */
export async function startTestDaemon(): Promise<TestDaemon> {
  const { store, home, dispose } = tempStore();
  const tokens = new TokenStore(store);
  await ensureAdminToken(home, tokens);
  const engine = new FakeEngine();
  const server = await startApiServer(createApi({ engine, auth: tokens }), { port: 0 });
  return {
    engine,
    tokens,
    home,
    url: server.address.url,
    close: async () => {
      await server.close();
      await dispose();
    },
  };
}
