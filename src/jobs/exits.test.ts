import { describe, expect, it } from 'vitest';

import type { ObservedInstance, OwnerLabels, Runtime, RuntimeEvent } from '../runtime/index.js';

import { ExitWatch } from './exits.js';

const labels: OwnerLabels = { stack: 's', service: 'j', revision: 'r', instance: 'i' };

/** The two parts of a Runtime the watch uses: events the test publishes, and a list it sets. */
function fakeRuntime(): {
  runtime: Pick<Runtime, 'events' | 'list'>;
  publish: (event: RuntimeEvent) => void;
  end: () => void;
  listed: ObservedInstance[];
} {
  const queue: (RuntimeEvent | 'end')[] = [];
  let wake: (() => void) | undefined;
  const listed: ObservedInstance[] = [];
  const push = (item: RuntimeEvent | 'end'): void => {
    queue.push(item);
    wake?.();
  };
  return {
    runtime: {
      async *events() {
        for (;;) {
          const item = queue.shift();
          if (item === 'end') return;
          if (item !== undefined) {
            yield item;
            continue;
          }
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
      list: async () => listed,
    },
    publish: push,
    end: () => push('end'),
    listed,
  };
}

function exit(id: string, exitCode: number): RuntimeEvent {
  return { type: 'exit', id, labels, at: new Date().toISOString(), exitCode, signal: null };
}

function observed(id: string, state: 'running' | 'exited', exitCode?: number): ObservedInstance {
  return {
    handle: { runtime: 'process', id, port: 0, startedAt: '' },
    labels,
    state,
    ...(exitCode === undefined ? {} : { exit: { exitCode, signal: null } }),
  };
}

describe('ExitWatch', () => {
  it('keeps an exit heard before anyone waits for it', async () => {
    const fake = fakeRuntime();
    const watch = new ExitWatch(fake.runtime, 60_000);
    watch.expect('a');
    fake.listed.push(observed('a', 'running'));
    fake.publish(exit('a', 4));
    await new Promise((resolve) => setImmediate(resolve));
    expect(await watch.exited('a', new AbortController().signal)).toEqual({
      exitCode: 4,
      signal: null,
    });
    watch.close();
  });

  it('hears an exit while waiting, and ignores other instances', async () => {
    const fake = fakeRuntime();
    const watch = new ExitWatch(fake.runtime, 60_000);
    watch.expect('a');
    fake.listed.push(observed('a', 'running'));
    const waiting = watch.exited('a', new AbortController().signal);
    fake.publish(exit('b', 1));
    fake.publish(exit('a', 0));
    expect(await waiting).toEqual({ exitCode: 0, signal: null });
    watch.close();
  });

  it('falls back on the list when the stream ends', async () => {
    const fake = fakeRuntime();
    const watch = new ExitWatch(fake.runtime, 10);
    fake.end();
    watch.expect('a');
    fake.listed.push(observed('a', 'exited', 9));
    expect(await watch.exited('a', new AbortController().signal)).toEqual({
      exitCode: 9,
      signal: null,
    });
    watch.close();
  });

  it('counts an instance the list no longer shows as ended', async () => {
    const fake = fakeRuntime();
    const watch = new ExitWatch(fake.runtime, 10);
    watch.expect('a');
    expect(await watch.exited('a', new AbortController().signal)).toMatchObject({
      exitCode: null,
      note: 'the instance is gone',
    });
    watch.close();
  });

  it('stops waiting when its signal aborts', async () => {
    const fake = fakeRuntime();
    const watch = new ExitWatch(fake.runtime, 10);
    watch.expect('a');
    fake.listed.push(observed('a', 'running'));
    const controller = new AbortController();
    const waiting = watch.exited('a', controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
    watch.close();
  });
});
