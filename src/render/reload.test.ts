import { describe, expect, it } from 'vitest';

import { ReloadError, ReloadTimeoutError } from './errors.js';
import { runReload } from './reload.js';

const node = (script: string) => [process.execPath, '-e', script];

describe('runReload', () => {
  it('resolves with stdout and stderr as they came', async () => {
    const output = await runReload(
      node("process.stdout.write('a\\n'); setTimeout(() => process.stderr.write('b\\n'), 20)"),
      { timeoutMs: 5_000 },
    );
    expect(output).toBe('a\nb\n');
  });

  it('rejects a non-zero exit with the last line it printed', async () => {
    const failure = runReload(
      node("console.log('checking'); console.error('bad config'); process.exit(1)"),
      {
        timeoutMs: 5_000,
      },
    );
    await expect(failure).rejects.toBeInstanceOf(ReloadError);
    await expect(failure).rejects.toMatchObject({
      code: 'RELOAD_FAILED',
      message: expect.stringMatching(/exited with 1: bad config$/),
      output: 'checking\nbad config\n',
    });
  });

  it('keeps only the tail of long output', async () => {
    const failure = runReload(
      node("process.stdout.write('x'.repeat(100000) + 'END'); process.exit(2)"),
      {
        timeoutMs: 5_000,
      },
    );
    const error = (await failure.catch((e: unknown) => e)) as ReloadError;
    expect(error.output.length).toBe(16 * 1024);
    expect(error.output.endsWith('END')).toBe(true);
  });

  it('kills a command that outlives its time limit', async () => {
    const failure = runReload(node('setTimeout(() => {}, 30000)'), { timeoutMs: 100 });
    await expect(failure).rejects.toBeInstanceOf(ReloadTimeoutError);
    await expect(failure).rejects.toMatchObject({ code: 'RELOAD_TIMEOUT', timeoutMs: 100 });
  });

  it('kills the command when the signal aborts', async () => {
    const controller = new AbortController();
    const failure = runReload(node('setTimeout(() => {}, 30000)'), {
      timeoutMs: 30_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(failure).rejects.toThrow(/was stopped: closing/);
  });

  it('reports a program that does not exist', async () => {
    await expect(runReload(['/nonexistent/reload'], { timeoutMs: 1_000 })).rejects.toThrow(
      /cannot run \/nonexistent\/reload: spawn \/nonexistent\/reload ENOENT/,
    );
  });

  it('never involves a shell: metacharacters are plain arguments', async () => {
    const output = await runReload(
      [process.execPath, '-e', 'console.log(process.argv[1])', '$(echo hi); rm -rf /'],
      { timeoutMs: 5_000 },
    );
    expect(output).toBe('$(echo hi); rm -rf /\n');
  });
});
