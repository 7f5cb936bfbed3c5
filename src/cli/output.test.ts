import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { load, loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestDaemon } from '../api/testing/index.js';
import { startTestDaemon } from '../api/testing/index.js';

import { formatData, formatItem } from './output.js';
import { runCli } from './testing.js';

let daemon: TestDaemon;
let home: string;

beforeAll(async () => {
  daemon = await startTestDaemon();
  daemon.engine.record({ type: 'apply.started', stack: 'hello', who: 'alice', message: 'apply' });
  daemon.engine.record({ stack: 'hello', resource: 'web', phase: 'healthy', message: 'ok' });
  home = mkdtempSync(join(tmpdir(), 'drover-output-'));
});
afterAll(() => daemon.close());

const env = (): NodeJS.ProcessEnv => ({ DROVER_HOME: daemon.home, DROVER_API: daemon.url });

/** Commands that print one document of data; the exit status they have with the fake's data. */
const documents: { args: string[]; code?: number; local?: boolean }[] = [
  { args: ['status'] },
  { args: ['status', 'hello'] },
  { args: ['ps'] },
  { args: ['history', 'hello'] },
  { args: ['history', 'hello/web'] },
  { args: ['drift'], code: 1 },
  { args: ['token', 'list'] },
  { args: ['apply', 'examples/hello', '--yes'] },
  { args: ['destroy', 'hello', '--yes'] },
  { args: ['rollback', 'hello/web', '--yes'] },
  { args: ['validate', 'examples/hello'], local: true },
  { args: ['plan', 'examples/hello'], local: true },
  { args: ['codes'], local: true },
];

/** Commands that print a stream of items: JSON lines, or YAML documents. */
const streams: { args: string[] }[] = [{ args: ['events'] }, { args: ['logs', 'hello/web'] }];

describe('-o table|json|yaml', () => {
  const run = (args: string[], local = false) =>
    runCli(args, local ? { DROVER_HOME: home } : env());

  it.each(documents)('$args: json and yaml hold the same data; --json is -o json', async (c) => {
    const json = await run([...c.args, '-o', 'json'], c.local);
    expect(json.code).toBe(c.code ?? 0);
    const data = JSON.parse(json.stdout) as unknown;
    const yaml = await run([...c.args, '-o', 'yaml'], c.local);
    expect(yaml.code).toBe(c.code ?? 0);
    expect(load(yaml.stdout)).toEqual(data);
    expect((await run([...c.args, '--json'], c.local)).stdout).toBe(json.stdout);
    const table = await run([...c.args, '-o', 'table'], c.local);
    expect(table.stdout).toBe((await run(c.args, c.local)).stdout);
    expect(() => JSON.parse(table.stdout) as unknown).toThrow();
  });

  it.each(streams)('$args: one JSON object per line, or one YAML document each', async (c) => {
    const json = await run([...c.args, '-o', 'json']);
    expect(json.code).toBe(0);
    const items = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(items.length).toBeGreaterThan(1);
    const yaml = await run([...c.args, '-o', 'yaml']);
    expect(loadAll(yaml.stdout)).toEqual(items);
    expect((await run([...c.args, '--json'])).stdout).toBe(json.stdout);
  });

  it('refuses a format it does not know, and two at once (exit 2)', async () => {
    const xml = await run(['status', '-o', 'xml']);
    expect(xml.code).toBe(2);
    expect(xml.stderr).toContain(
      "argument 'xml' is invalid. Allowed choices are table, json, yaml",
    );
    expect((await run(['status', '-o', 'yaml', '--json'])).code).toBe(2);
  });

  it('sends progress to stderr when stdout carries data', async () => {
    const destroy = await run(['destroy', 'hello', '--yes', '-o', 'yaml']);
    expect(destroy.stderr).toContain('web  starting      starting 1 instance');
    expect(destroy.stderr).toContain('Stack hello destroyed');
    expect(load(destroy.stdout)).toMatchObject({ stack: 'hello', status: 'converged' });
  });
});

describe('formatData and formatItem', () => {
  it('write YAML of exactly what JSON would hold', () => {
    const data = { a: 'yes', b: undefined, c: [1, { d: null }], e: 'line 1\nline 2' };
    expect(load(formatData('yaml', data))).toEqual(JSON.parse(formatData('json', data)));
    expect(formatItem('json', { a: 1 })).toBe('{"a":1}\n');
    expect(formatItem('yaml', { a: 1 })).toBe('---\na: 1\n');
  });
});
