import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Endpoint } from '../../registry/index.js';
import { Registry } from '../../registry/index.js';
import type { SqliteStore } from '../../store/index.js';
import { openSqliteStore } from '../../store/index.js';
import type { RenderEvent } from '../events.js';

/** A real SQLite store in a temp dir, with the registry on it. */
export interface TestRegistry {
  readonly dir: string;
  readonly store: SqliteStore;
  readonly registry: Registry;
  cleanup(): Promise<void>;
}

export async function openTestRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'drover-render-'));
  const store = openSqliteStore({ path: join(dir, 'state.db') });
  return {
    dir,
    store,
    registry: new Registry(store),
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A serving endpoint of `web` in stack `s`, with any field overridden. */
export function endpoint(instance: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    stack: 's',
    service: 'web',
    instance,
    address: '127.0.0.1',
    port: 8000,
    revision: 'r1',
    weight: 1,
    healthy: true,
    ...overrides,
  };
}

/**
 * A reload command that appends one byte to `file` per run, so a test counts
 * reloads by the file's size; it exits 3 without counting while `failFlag`
 * exists, which lets a test break and then fix it.
 */
export function countingReload(file: string, failFlag?: string): string[] {
  const script = [
    "const fs = require('node:fs');",
    failFlag === undefined ? '' : `if (fs.existsSync(${JSON.stringify(failFlag)})) {`,
    failFlag === undefined ? '' : "  console.error('reload refused'); process.exit(3); }",
    `fs.appendFileSync(${JSON.stringify(file)}, 'x');`,
    "console.log('reloaded');",
  ].join('\n');
  return [process.execPath, '-e', script];
}

export async function countOf(file: string): Promise<number> {
  try {
    return (await readFile(file, 'utf8')).length;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/**
 * Collects a renderer's events and waits for the ones a test expects; a wait
 * that is not met in `timeoutMs` fails with every event seen so far.
 */
export class EventLog {
  readonly seen: RenderEvent[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #done: Promise<void>;

  constructor(events: AsyncIterable<RenderEvent>) {
    this.#done = (async () => {
      for await (const event of events) {
        this.seen.push(event);
        for (const wake of this.#waiters) wake();
      }
    })();
  }

  types(): string[] {
    return this.seen.map((e) => (e.type === 'failed' ? `failed:${e.phase}` : e.type));
  }

  /** The first event from index `from` on that matches. */
  async waitFor(
    match: (event: RenderEvent) => boolean,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<RenderEvent> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? 5_000;
    const find = () => this.seen.slice(from).find(match);
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching event in ${timeoutMs} ms; saw ${this.types().join(', ')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Settles when the event stream has ended. */
  ended(): Promise<void> {
    return this.#done;
  }
}
