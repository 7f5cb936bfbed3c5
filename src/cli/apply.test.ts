import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { TestDaemon } from '../api/testing/index.js';
import { convergedResult, startTestDaemon } from '../api/testing/index.js';
import { InvalidTemplateError } from '../engine/index.js';

import { runCli, screen } from './testing.js';

let daemon: TestDaemon;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-cli-'));
  mkdirSync(join(dir, 'hello'));
  writeFileSync(join(dir, 'hello', 'stack.yaml'), 'drover_template_version: 2026-11-21\n');
  writeFileSync(join(dir, 'values.yaml'), 'parameters:\n  replicas: 3\n  version: "1"\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  daemon = await startTestDaemon();
});
afterEach(() => daemon.close());

const env = (): NodeJS.ProcessEnv => ({ DROVER_HOME: daemon.home, DROVER_API: daemon.url });
const calls = (method: string) => daemon.engine.calls.filter((c) => c.method === method);

describe('drover apply', () => {
  it('plans, applies and prints progress and outputs; sends an absolute path and the values', async () => {
    const arg = relative(process.cwd(), join(dir, 'hello'));
    const run = await runCli(
      ['apply', arg, '--parameters', join(dir, 'values.yaml'), '-p', 'version=2', '--yes'],
      env(),
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        'Plan for stack hello: 1 to create, 0 to replace, 0 to update, 0 to delete, 0 unchanged.',
        '+ create  web  Drover::Service  new resource',
        '    command: ["node","server.js"]',
        'web  starting      starting 1 instance',
        'web  healthy       instance a1b2 is healthy',
        'Stack hello converged (stack revision 1).',
        '',
        'Outputs:',
        'url = http://hello.localhost:8080/',
        '',
      ].join('\n'),
    );
    const body = {
      file: join(dir, 'hello', 'stack.yaml'),
      stack: 'hello',
      parameters: [
        { name: 'replicas', value: 3, fromText: false, source: 'api' },
        { name: 'version', value: '2', fromText: true, source: 'api' },
      ],
    };
    expect(calls('plan')).toEqual([{ method: 'plan', args: [body] }]);
    expect(calls('apply')).toEqual([{ method: 'apply', args: [{ ...body, who: 'admin' }] }]);
  });

  it('refuses to apply unconfirmed off a terminal (exit 2), and changes nothing', async () => {
    const run = await runCli(['apply', join(dir, 'hello')], env());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'drover: refusing to apply without confirmation: standard input is not a terminal (pass --yes)',
    );
    expect(calls('apply')).toEqual([]);
  });

  it('asks on a terminal: yes applies, anything else cancels with exit 1', async () => {
    const yes = await runCli(['apply', join(dir, 'hello')], env(), false, { input: 'y\n' });
    expect(yes.stderr).toBe('Apply these changes to stack hello? [y/N] ');
    expect(yes.code).toBe(0);
    expect(calls('apply')).toHaveLength(1);

    const no = await runCli(['apply', join(dir, 'hello')], env(), false, { input: 'n\n' });
    expect(no.code).toBe(1);
    expect(no.stderr).toContain('Apply cancelled; nothing changed.');
    const eof = await runCli(['apply', join(dir, 'hello')], env(), false, { input: '' });
    expect(eof.code).toBe(1);
    expect(calls('apply')).toHaveLength(1);
  });

  it('needs no confirmation when the plan changes nothing', async () => {
    daemon.engine.plan = async () => ({
      stack: 'hello',
      actions: [],
      summary: { create: 0, replace: 0, update: 0, delete: 0, noop: 1 },
    });
    daemon.engine.script = async () => ({
      ...convergedResult('hello'),
      status: 'unchanged',
      stackRevision: undefined,
    });
    const run = await runCli(['apply', join(dir, 'hello')], env());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Nothing to do');
    expect(run.stdout).toContain('Stack hello unchanged.\n');
  });

  it('exits 1 with the reason when the apply fails', async () => {
    daemon.engine.script = async (emit) => {
      emit({ resource: 'web', phase: 'unhealthy', message: 'health check failed: HTTP 500' });
      emit({ resource: 'web', phase: 'rolling-back', message: 'keeping the old instances' });
      return { ...convergedResult('hello'), status: 'failed', error: 'web did not become healthy' };
    };
    const run = await runCli(['apply', join(dir, 'hello'), '--yes'], env());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('web  unhealthy     health check failed: HTTP 500\n');
    expect(run.stdout).toContain('web  rolling-back  keeping the old instances\n');
    expect(run.stderr).toBe('drover: apply of stack hello failed: web did not become healthy\n');
    expect(run.stdout).not.toContain('Outputs:');
  });

  it('prints only the result as JSON on stdout with --json', async () => {
    const run = await runCli(['apply', join(dir, 'hello'), '--yes', '--json'], env());
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { status: string; plan: { actions: unknown[] } };
    expect(result).toMatchObject({ stack: 'hello', status: 'converged', stackRevision: 1 });
    expect(result.plan.actions).toHaveLength(1);
    expect(run.stderr).toContain('web  starting      starting 1 instance');
  });

  it('prints template problems like validate does, exit 2', async () => {
    daemon.engine.plan = () =>
      Promise.reject(
        new InvalidTemplateError([
          { code: 'PARAMETER_VALUE', message: "the template has no parameter 'x'", source: 'api' },
        ]),
      );
    const run = await runCli(['apply', join(dir, 'hello'), '-p', 'x=1', '--yes'], env());
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("api: error PARAMETER_VALUE: the template has no parameter 'x'\n");
  });

  it('colours progress only on a terminal without NO_COLOR', async () => {
    const args = ['apply', join(dir, 'hello'), '--yes'];
    // SGR sequences (colour, bold); cursor movement of the live display is not colour.
    // eslint-disable-next-line no-control-regex -- ESC is what is looked for
    const sgr = /\u001b\[[0-9;]*m/;
    expect((await runCli(args, env(), true)).stdout).toMatch(sgr);
    expect((await runCli(args, { ...env(), NO_COLOR: '1' }, true)).stdout).not.toMatch(sgr);
    expect((await runCli(args, env(), false)).stdout).not.toContain('\u001b[');
  });

  it('on a terminal, redraws one line per resource in place; failures stay on screen', async () => {
    daemon.engine.script = async (emit) => {
      emit({ resource: 'web', phase: 'starting', message: 'starting 1 instance' });
      emit({ resource: 'web', phase: 'unhealthy', message: 'health check failed: HTTP 500' });
      emit({ resource: 'web', phase: 'healthy', message: 'instance a1b2 is healthy' });
      emit({ phase: 'done', message: 'hello converged' });
      return convergedResult('hello');
    };
    const run = await runCli(
      ['apply', join(dir, 'hello'), '--yes'],
      { ...env(), NO_COLOR: '1' },
      true,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('\u001b[1A');
    expect(screen(run.stdout)).toEqual([
      'Plan for stack hello: 1 to create, 0 to replace, 0 to update, 0 to delete, 0 unchanged.',
      '+ create  web  Drover::Service  new resource',
      '    command: ["node","server.js"]',
      // Written when `web` was the widest name, and kept as it was.
      'web  unhealthy     health check failed: HTTP 500',
      'web    healthy       instance a1b2 is healthy',
      'hello  done          hello converged',
      'Stack hello converged (stack revision 1).',
      '',
      'Outputs:',
      'url = http://hello.localhost:8080/',
    ]);
  });
});

describe('drover destroy', () => {
  it('lists what goes, then destroys with --yes', async () => {
    const run = await runCli(['destroy', 'hello', '--yes'], env());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Stack hello: 1 resource to delete: web\n');
    expect(run.stdout).toContain('Stack hello destroyed (stack revision 1).');
    expect(calls('destroy')).toEqual([{ method: 'destroy', args: ['hello', 'admin'] }]);
  });

  it('exits 2 for a stack that does not exist', async () => {
    const run = await runCli(['destroy', 'nope', '--yes'], env());
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("drover: no stack 'nope'\n");
  });
});

describe('drover rollback', () => {
  it('rolls a service back to a revision, or to the one before', async () => {
    const to = await runCli(['rollback', 'hello/web', '--to', 'abc123', '--yes'], env());
    expect(to.code).toBe(0);
    expect(to.stdout).toContain('Stack hello rolled back (stack revision 1).');
    const before = await runCli(['rollback', 'hello/web'], env(), false, { input: 'yes\n' });
    expect(before.stderr).toBe('Roll back hello/web to its previous revision? [y/N] ');
    expect(calls('rollbackService').map((c) => c.args)).toEqual([
      ['hello', 'web', { to: 'abc123', who: 'admin' }],
      ['hello', 'web', { who: 'admin' }],
    ]);
  });

  it('rolls a whole stack back with --to N, which it needs', async () => {
    const run = await runCli(['rollback', 'hello', '--to', '1', '--yes'], env());
    expect(run.code).toBe(0);
    expect(calls('rollbackStack').map((c) => c.args)).toEqual([['hello', 1, 'admin']]);
    const missing = await runCli(['rollback', 'hello', '--yes'], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('rolling back a whole stack needs --to N');
    expect((await runCli(['rollback', 'hello', '--to', 'x', '--yes'], env())).code).toBe(2);
    expect((await runCli(['rollback', 'hello/', '--yes'], env())).code).toBe(2);
  });

  it('exits 1 when the rollback fails, and 2 for an unknown stack', async () => {
    daemon.engine.script = async () => ({
      ...convergedResult('hello'),
      status: 'failed',
      error: 'revision b is not recorded',
    });
    const failed = await runCli(['rollback', 'hello/web', '--yes'], env());
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(
      'drover: rollback of stack hello failed: revision b is not recorded\n',
    );
    const unknown = await runCli(['rollback', 'other/web', '--yes'], env());
    expect(unknown).toMatchObject({ code: 2, stderr: 'drover: no stack named other\n' });
  });
});
