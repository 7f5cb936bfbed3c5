import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { RendererOptionsError, RendererStateError, TemplateSyntaxError } from './errors.js';
import type { RenderEvent } from './events.js';
import type { ConfigTemplateRendererOptions } from './renderer.js';
import { ConfigTemplateRenderer } from './renderer.js';
import type { TestRegistry } from './testing/harness.js';
import {
  countingReload,
  countOf,
  endpoint,
  EventLog,
  openTestRegistry,
} from './testing/harness.js';

const run = promisify(execFile);
const lifecycle = fileURLToPath(new URL('./testing/lifecycle.ts', import.meta.url));

const TEMPLATE = `{{#each endpoints}}server {{address}}:{{port}};
{{else}}server 127.0.0.1:1 down;
{{/each}}`;

let t: TestRegistry;
let dest: string;
let counter: string;
const renderers: ConfigTemplateRenderer[] = [];

beforeEach(async () => {
  t = await openTestRegistry();
  dest = join(t.dir, 'out', 'upstreams.conf');
  counter = join(t.dir, 'reloads');
});
afterEach(async () => {
  for (const renderer of renderers.splice(0)) await renderer.close();
  await t.cleanup();
});

function start(options: Partial<ConfigTemplateRendererOptions> = {}): {
  renderer: ConfigTemplateRenderer;
  log: EventLog;
} {
  const renderer = new ConfigTemplateRenderer({
    registry: t.registry,
    stack: 's',
    name: 'upstreams',
    template: TEMPLATE,
    destination: dest,
    service: 'web',
    reload: countingReload(counter),
    debounceMs: 20,
    retry: { initialMs: 30, maxMs: 120 },
    ...options,
  });
  renderers.push(renderer);
  const log = new EventLog(renderer.events());
  renderer.start();
  return { renderer, log };
}

const is =
  (type: RenderEvent['type'], extra: (e: RenderEvent) => boolean = () => true) =>
  (e: RenderEvent) =>
    e.type === type && extra(e);

describe('ConfigTemplateRenderer', () => {
  it('renders the current picture, writes it and reloads', async () => {
    await t.registry.register(endpoint('i2', { port: 8002 }));
    const revision = await t.registry.register(endpoint('i1', { port: 8001 }));
    const { log } = start();
    const reloaded = await log.waitFor(is('reloaded'));
    expect(await readFile(dest, 'utf8')).toBe('server 127.0.0.1:8001;\nserver 127.0.0.1:8002;\n');
    expect(log.types()).toEqual(['rendered', 'reloaded']);
    expect(reloaded).toMatchObject({
      name: 'upstreams',
      destination: dest,
      revision,
      sha256: log.seen[0]?.sha256,
      output: 'reloaded\n',
    });
    expect(log.seen[0]).toMatchObject({ bytes: 46 });
    expect(await countOf(counter)).toBe(1);
  });

  it('renders a burst of changes once', async () => {
    const { log } = start({ debounceMs: 300 });
    await log.waitFor(is('reloaded'));
    const from = log.seen.length;
    let last = 0;
    for (let i = 0; i < 10; i++) last = await t.registry.register(endpoint(`i${i}`));
    const rendered = await log.waitFor(is('rendered'), { from });
    expect(rendered.revision).toBe(last);
    await log.waitFor(is('reloaded'), { from });
    // Quiet for longer than the debounce: nothing else renders.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(log.types().slice(from)).toEqual(['rendered', 'reloaded']);
    expect((await readFile(dest, 'utf8')).split('\n')).toHaveLength(11);
    expect(await countOf(counter)).toBe(2);
  });

  it('neither writes nor reloads when the text did not change', async () => {
    await t.registry.register(endpoint('i1'));
    const { log } = start();
    await log.waitFor(is('reloaded'));
    const before = await stat(dest);
    const from = log.seen.length;
    // Changes the template does not show: another service, an unhealthy endpoint.
    await t.registry.register(endpoint('a1', { service: 'api' }));
    const revision = await t.registry.register(endpoint('i9', { healthy: false }));
    const unchanged = await log.waitFor(
      is('unchanged', (e) => e.revision === revision),
      { from },
    );
    expect(unchanged.sha256).toBe(log.seen[0]?.sha256);
    expect(
      log
        .types()
        .slice(from)
        .every((type) => type === 'unchanged'),
    ).toBe(true);
    const after = await stat(dest);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(await countOf(counter)).toBe(1);
  });

  it('reloads once at start even when the file already holds the text', async () => {
    await mkdir(join(t.dir, 'out'));
    await writeFile(dest, 'server 127.0.0.1:1 down;\n');
    const { log } = start();
    await log.waitFor(is('reloaded'));
    expect(log.types()).toEqual(['unchanged', 'reloaded']);
  });

  it('puts back a file someone edited, and reloads it', async () => {
    const { log } = start();
    await log.waitFor(is('reloaded'));
    await writeFile(dest, 'edited by hand\n');
    const from = log.seen.length;
    await t.registry.register(endpoint('a1', { service: 'api' }));
    await log.waitFor(is('reloaded'), { from });
    expect(log.types().slice(from)).toEqual(['rendered', 'reloaded']);
    expect(await readFile(dest, 'utf8')).toBe('server 127.0.0.1:1 down;\n');
  });

  it('retries a failed reload, even though the file is current, until it succeeds', async () => {
    const flag = join(t.dir, 'break-reload');
    await writeFile(flag, '');
    const { log } = start({ reload: countingReload(counter, flag) });
    const first = await log.waitFor(is('failed'));
    const second = await log.waitFor((e) => e.type === 'failed' && e.attempt === 2);
    expect(first).toMatchObject({
      phase: 'reload',
      code: 'RELOAD_FAILED',
      attempt: 1,
      retryInMs: 30,
      output: 'reload refused\n',
    });
    expect(first.type === 'failed' && first.error).toMatch(/exited with 3: reload refused/);
    expect(second).toMatchObject({ phase: 'reload', retryInMs: 60, sha256: first.sha256 });

    await rm(flag);
    const reloaded = await log.waitFor(is('reloaded'));
    expect(reloaded.sha256).toBe(first.sha256);
    // Written once; every retry found the file current and only reloaded.
    expect(log.types().filter((type) => type === 'rendered')).toHaveLength(1);
    expect(log.types().at(-2)).toBe('unchanged');
    expect(await countOf(counter)).toBe(1);

    // The success cleared the failure: the next failure counts from 1 again.
    await writeFile(flag, '');
    const from = log.seen.length;
    await t.registry.register(endpoint('i1'));
    expect(await log.waitFor(is('failed'), { from })).toMatchObject({ attempt: 1 });
  });

  it('reports a write failure and retries it once the destination is writable', async () => {
    await writeFile(join(t.dir, 'out'), 'a file where the directory should be');
    const { log } = start();
    const failed = await log.waitFor(is('failed'));
    expect(failed).toMatchObject({ phase: 'write', code: 'RENDER_WRITE', attempt: 1 });
    expect(failed.sha256).toMatch(/^[0-9a-f]{64}$/);
    await rm(join(t.dir, 'out'));
    await log.waitFor(is('reloaded'));
    expect(await readFile(dest, 'utf8')).toBe('server 127.0.0.1:1 down;\n');
  });

  it('reports render failures with a growing, capped backoff', async () => {
    const { log } = start({ template: '{{join service}}' });
    await log.waitFor((e) => e.type === 'failed' && e.attempt === 4);
    const failures = log.seen.filter((e) => e.type === 'failed');
    expect(failures.map((e) => [e.phase, e.attempt, e.retryInMs])).toEqual(
      [
        ['render', 1, 30],
        ['render', 2, 60],
        ['render', 3, 120],
        ['render', 4, 120],
      ].slice(0, failures.length),
    );
    expect(failures[0]).toMatchObject({ code: 'TEMPLATE_RENDER' });
    expect(failures[0]?.sha256).toBeUndefined();
    expect(await countOf(counter)).toBe(0);
  });

  it('kills a reload that outlives its time limit', async () => {
    const { log } = start({
      reload: [process.execPath, '-e', 'setTimeout(() => {}, 10_000)'],
      reloadTimeoutMs: 200,
    });
    const failed = await log.waitFor(is('failed'));
    expect(failed).toMatchObject({ phase: 'reload', code: 'RELOAD_TIMEOUT' });
  });

  it('reports a reload command that cannot start', async () => {
    const { log } = start({ reload: [join(t.dir, 'no-such-program')] });
    const failed = await log.waitFor(is('failed'));
    expect(failed).toMatchObject({ phase: 'reload', code: 'RELOAD_FAILED' });
    expect(failed.type === 'failed' && failed.error).toMatch(/cannot run .*ENOENT/);
  });

  it('without a reload command only writes', async () => {
    const { log } = start({ reload: undefined, service: undefined });
    await log.waitFor(is('rendered'));
    await t.registry.register(endpoint('i1'));
    await log.waitFor(is('rendered', (e) => e.revision > (log.seen[0]?.revision ?? 0)));
    expect(log.types()).toEqual(['rendered', 'rendered']);
  });

  it('ends its event streams on close and when the start signal aborts', async () => {
    const { renderer, log } = start();
    await log.waitFor(is('reloaded'));
    const controller = new AbortController();
    const other = new ConfigTemplateRenderer({
      registry: t.registry,
      stack: 's',
      name: 'other',
      template: 'x',
      destination: join(t.dir, 'other.conf'),
      debounceMs: 0,
    });
    const otherLog = new EventLog(other.events());
    other.start(controller.signal);
    await otherLog.waitFor(is('rendered'));
    controller.abort();
    await otherLog.ended();
    await renderer.close();
    await log.ended();
    await renderer.close(); // idempotent
    expect(() => renderer.start()).toThrow(RendererStateError);
  });

  it('reports losing the registry and keeps retrying until closed', async () => {
    const { renderer, log } = start();
    await log.waitFor(is('reloaded'));
    await t.store.close();
    const failed = await log.waitFor((e) => e.type === 'failed' && e.attempt === 2);
    expect(failed).toMatchObject({ phase: 'registry', code: 'RENDER_REGISTRY', retryInMs: 60 });
    await renderer.close();
    await log.ended();
  });

  it('refuses a broken template and impossible options up front', () => {
    const base = {
      registry: t.registry,
      stack: 's',
      name: 'bad',
      destination: dest,
      debounceMs: 0,
    };
    expect(() => new ConfigTemplateRenderer({ ...base, template: '{{#each x}}' })).toThrow(
      TemplateSyntaxError,
    );
    const impossible = () =>
      new ConfigTemplateRenderer({
        ...base,
        template: '',
        debounceMs: -1,
        reload: [],
        retry: { initialMs: 100, maxMs: 10 },
      });
    expect(impossible).toThrow(RendererOptionsError);
    expect(impossible).toThrow(
      /debounceMs must be a non-negative number of ms; retry.maxMs must be at least retry.initialMs; reload must name/,
    );
  });

  it('leaves nothing running after close: the process exits on its own', async () => {
    // A child closes one renderer mid-reload and one with a retry pending for
    // a minute; if anything were left (a timer, the reload, a watch), it would
    // not exit before this test's time limit.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', lifecycle, t.dir], {
      timeout: 15_000,
    });
    expect(stdout).toBe('closed\n');
  });
});
