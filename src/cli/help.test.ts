import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { commandNames } from './completion.js';
import { exitCodeMeanings, exitCodes } from './exit-codes.js';
import { createProgram } from './index.js';
import { runCli } from './testing.js';

const names = commandNames(
  createProgram({ env: {}, stdout: new PassThrough(), stderr: new PassThrough() }, () => undefined),
).filter((name) => !name.endsWith('help'));

describe('exit codes', () => {
  it.each(['', ...names])("'drover %s --help' documents the exit statuses", async (name) => {
    const run = await runCli([...name.split(' ').filter((w) => w !== ''), '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('\nExit status:\n  0  ');
    expect(run.stdout).toContain(`  ${exitCodes.environment}  Drover could not work`);
  });

  it('are the ones the README lists', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Exit codes'));
    const rows = [...section.matchAll(/^\| (\d) \| (.+) \|$/gm)].map((m) => Number(m[1]));
    expect(rows).toEqual(exitCodeMeanings.map(([code]) => code));
  });
});
