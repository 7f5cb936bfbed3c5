import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { locateStack, writeRecordedState } from '../engine/index.js';
import { recordStack } from '../plan/index.js';
import { openDefaultStore } from '../store/index.js';
import { compileStack, errorCodes } from '../template/index.js';
import { removeFixtures, writeFixture } from '../template/testing/fixture.js';

import { runCli } from './testing.js';

afterAll(removeFixtures);

const HEADER = 'drover_template_version: 2026-11-21\n';
const stackText = `${HEADER}parameters:
  version: { type: string, default: "1" }
  token: { type: string, hidden: true }
resources:
  build: { type: Drover::Artifact, properties: { context: ./app } }
  web:
    type: Drover::Service
    properties:
      artifact: { get_resource: build }
      command: [node, server.js]
      env: { VERSION: { get_param: version }, TOKEN: { get_param: token } }
outputs:
  name: { value: { get_attr: [web, name] } }
`;

function fixture(): { dir: string; home: string } {
  const dir = writeFixture({
    'app/server.js': 'x',
    'shop/app/server.js': 'x',
    'shop/stack.yaml': stackText,
    'stack.yaml': stackText,
  });
  return { dir, home: mkdtempSync(join(tmpdir(), 'drover-home-')) };
}

describe('drover validate', () => {
  it('reports every problem as FILE:LINE:COL: error CODE: message and exits 2', async () => {
    const dir = writeFixture({
      'bad.yaml': `${HEADER}resources:\n  v: { type: Drover::Volum }\n  w: { type: Drover::Volume, depends_on: [x] }\n`,
    });
    const run = await runCli(['validate', join(dir, 'bad.yaml')]);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n').filter((l) => l.includes(' error '))).toEqual([
      `${join(dir, 'bad.yaml')}:3:14: error UNKNOWN_TYPE: unknown resource type 'Drover::Volum' (did you mean 'Drover::Volume'?); types are 'Drover::Artifact', 'Drover::Service', 'Drover::Job', 'Drover::Route', 'Drover::Volume', 'Drover::Config', 'Drover::Secret' or 'Drover::ConfigTemplate', or a relative path to a nested template (.yaml, .json)`,
      `${join(dir, 'bad.yaml')}:4:43: error MISSING_RESOURCE: depends_on names no resource 'x'`,
    ]);
    expect(run.stderr).toContain('2 problems found.');
  });

  it('needs no parameter values and lists the required ones', async () => {
    const { dir } = fixture();
    const run = await runCli(['validate', join(dir, 'stack.yaml')]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Required parameters (no default): token');
  });

  it('prints JSON with --json', async () => {
    const { dir } = fixture();
    const run = await runCli(['validate', '--json', join(dir, 'stack.yaml')]);
    expect(JSON.parse(run.stdout)).toMatchObject({
      valid: true,
      requiredParameters: ['token'],
      diagnostics: [],
    });
  });
});

describe('drover plan', () => {
  it('needs a value for every parameter without default', async () => {
    const { dir, home } = fixture();
    const run = await runCli(['plan', join(dir, 'stack.yaml')], { DROVER_HOME: home });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /stack\.yaml:4:3: error PARAMETER_VALUE: parameter 'token' has no default/,
    );
  });

  it('plans every resource as a create against an empty home, and writes nothing', async () => {
    const { dir, home } = fixture();
    const run = await runCli(['plan', join(dir, 'stack.yaml'), '-p', 'token=t0ps3cret', '--json'], {
      DROVER_HOME: home,
    });
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout) as {
      stack: string;
      actions: { resource: string; action: string }[];
    };
    expect(plan.stack).toBe(locateStack(join(dir, 'stack.yaml')).stack);
    expect(plan.actions.map((a) => [a.resource, a.action])).toEqual([
      ['build', 'create'],
      ['web', 'create'],
    ]);
    expect(run.stdout).not.toContain('t0ps3cret');
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(home)).toEqual([]);
  });

  it('takes values from --parameters files, with -p winning', async () => {
    const { dir, home } = fixture();
    writeFileSync(join(dir, 'values.yaml'), 'parameters:\n  token: from-file\n  version: "7"\n');
    const run = await runCli(
      [
        'plan',
        join(dir, 'stack.yaml'),
        '--parameters',
        join(dir, 'values.yaml'),
        '-p',
        'version=8',
        '--json',
      ],
      { DROVER_HOME: home },
    );
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout) as {
      actions: { resource: string; changes: { path: string; after: unknown }[] }[];
    };
    const env = plan.actions
      .find((a) => a.resource === 'web')
      ?.changes.find((c) => c.path === 'env');
    expect(env?.after).toEqual({ VERSION: '8', TOKEN: '(hidden)' });
  });

  it('rejects values for parameters the template does not have', async () => {
    const { dir, home } = fixture();
    const run = await runCli(
      ['plan', join(dir, 'stack.yaml'), '-p', 'token=x', '-p', 'verison=2'],
      { DROVER_HOME: home },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "-p verison: error PARAMETER_VALUE: the template has no parameter 'verison' (did you mean 'version'?)",
    );
  });

  it('diffs against the state recorded in $DROVER_HOME', async () => {
    const { dir, home } = fixture();
    const file = join(dir, 'stack.yaml');
    const stackName = locateStack(file).stack;
    // Record an apply of version 1 the way the engine does, with the home's key.
    await runCli(['plan', file, '-p', 'token=a'], { DROVER_HOME: home });
    const { loadKey } = await import('../engine/index.js');
    const key = loadKey(home, 'hidden', true) as Uint8Array;
    const applied = await compileStack(file, {
      stack: stackName,
      mode: 'plan',
      hiddenKey: key,
      home,
      parameters: [{ name: 'token', value: 'a', fromText: true, source: '-p' }],
    });
    const store = openDefaultStore(home);
    if (!applied.stack) throw new Error('fixture did not resolve');
    await writeRecordedState(store, recordStack(applied.stack));
    await store.close();

    const same = await runCli(['plan', file, '-p', 'token=a'], { DROVER_HOME: home });
    expect(same.stdout).toContain(
      '0 to create, 0 to replace, 0 to update, 0 to delete, 2 unchanged.',
    );
    expect(same.stdout).toContain('Nothing to do');

    const changed = await runCli(['plan', file, '-p', 'token=b', '-p', 'version=2'], {
      DROVER_HOME: home,
    });
    expect(changed.stdout).toContain('± replace web  Drover::Service  what it runs changed: env');
    expect(changed.stdout).toContain('env.TOKEN: (hidden) → (hidden)');
    expect(changed.stdout).toContain('env.VERSION: "1" → "2"');
  });

  it('names the stack after the directory for a stack.yaml, or after --stack', async () => {
    const { dir, home } = fixture();
    const byDir = await runCli(['plan', join(dir, 'shop'), '-p', 'token=x', '--json'], {
      DROVER_HOME: home,
    });
    expect(JSON.parse(byDir.stdout).stack).toBe('shop');
    const named = await runCli(
      ['plan', join(dir, 'shop'), '-p', 'token=x', '--json', '--stack', 'Other'],
      { DROVER_HOME: home },
    );
    expect(JSON.parse(named.stdout).stack).toBe('other');
    const bad = await runCli(['plan', join(dir, 'shop'), '--stack', 'no/slashes'], {
      DROVER_HOME: home,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a valid stack name');
  });

  it('colours only for a terminal, and never with NO_COLOR', async () => {
    const { dir, home } = fixture();
    const args = ['plan', join(dir, 'stack.yaml'), '-p', 'token=x'];
    expect((await runCli(args, { DROVER_HOME: home }, true)).stdout).toContain('\u001b[');
    expect((await runCli(args, { DROVER_HOME: home, NO_COLOR: '1' }, true)).stdout).not.toContain(
      '\u001b[',
    );
    expect((await runCli(args, { DROVER_HOME: home }, false)).stdout).not.toContain('\u001b[');
  });
});

describe('drover', () => {
  it('prints help and its version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('validate');
    expect(help.stdout).toContain('plan');
    expect((await runCli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('exits 2 on unknown commands and options', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['plan', '--nope'])).code).toBe(2);
  });

  it('lists the error codes', async () => {
    const run = await runCli(['codes']);
    for (const code of Object.keys(errorCodes)) expect(run.stdout).toContain(code);
  });

  it('prints a JSON Schema that describes every resource type', async () => {
    const run = await runCli(['schema']);
    const schema = JSON.parse(run.stdout) as {
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(schema.required).toEqual(['drover_template_version']);
    expect(run.stdout).toContain('Drover::ConfigTemplate');
    expect(run.stdout).toContain('"get_resource"');
  });
});
