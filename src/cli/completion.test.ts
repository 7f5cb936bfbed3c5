import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { commandNames } from './completion.js';
import { createProgram } from './index.js';
import { runCli } from './testing.js';

/** `drover completion SHELL`, run as users run it. */
async function script(shell: string): Promise<string> {
  const run = await runCli(['completion', shell]);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return run.stdout;
}

/** What bash completes for a command line (`|` marks the cursor at the end), with the script loaded. */
function complete(bashScript: string, line: string): string[] {
  const words = line.split(' ');
  const program = `${bashScript}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})
COMP_CWORD=${words.length - 1}
_drover
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const run = spawnSync('bash', ['-c', program], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter((w) => w !== '');
}

describe('drover completion', () => {
  it('knows every command of the CLI, nested ones included', async () => {
    const bash = await script('bash');
    const names = await namesOfTheCli();
    expect(names).toEqual(
      expect.arrayContaining(['apply', 'logs', 'token', 'token create', 'completion']),
    );
    for (const name of names) expect(bash).toContain(name.split(' ').at(-1) ?? '');
    const fish = await script('fish');
    for (const name of names) expect(fish).toContain(`-a '${name.split(' ').at(-1)}'`);
  });

  it('writes a bash script bash accepts, and a zsh one that loads it through bashcompinit', async () => {
    const bash = await script('bash');
    const check = spawnSync('bash', ['-n'], { input: bash, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    const zsh = await script('zsh');
    expect(zsh).toMatch(/^#compdef drover\n/);
    expect(zsh).toContain('bashcompinit');
    expect(zsh).toContain(bash);
  });

  it('completes commands, subcommands, options and their values in bash', async () => {
    const bash = await script('bash');
    expect(complete(bash, 'drover to')).toEqual(['token']);
    expect(complete(bash, 'drover token ')).toEqual(['create', 'list', 'revoke', 'help']);
    expect(complete(bash, 'drover token create --role ')).toEqual(['viewer', 'deployer', 'admin']);
    expect(complete(bash, 'drover ps -o ')).toEqual(['table', 'json', 'yaml']);
    expect(complete(bash, 'drover ps --ou')).toEqual(['--output']);
    expect(complete(bash, 'drover logs hello/web --')).toEqual(
      expect.arrayContaining([
        '--follow',
        '--tail',
        '--output',
        '--json',
        '--api',
        '--home',
        '--help',
      ]),
    );
    expect(complete(bash, 'drover completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(complete(bash, 'drover validate src/cli/completion.t')).toEqual([
      'src/cli/completion.test.ts',
      'src/cli/completion.ts',
    ]);
    expect(complete(bash, 'drover apply --api ')).toEqual([]);
  });

  it('refuses a shell it does not know (exit 2)', async () => {
    const run = await runCli(['completion', 'tcsh']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("'tcsh' is invalid");
    expect(run.stderr).toContain('Allowed choices are bash, zsh, fish');
  });
});

/** Every command name, from the tree main() builds. */
async function namesOfTheCli(): Promise<string[]> {
  const quiet = new PassThrough();
  return commandNames(createProgram({ env: {}, stdout: quiet, stderr: quiet }, () => undefined));
}
