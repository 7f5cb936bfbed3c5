import type { Command } from 'commander';

import type { CliContext } from '../context.js';
import { useColor, useLiveProgress } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { confirm, daemonClient, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { formatData, outputFormat, withOutputOption } from '../output.js';
import { progressPrinter, reportResult, resultData } from '../progress.js';

interface DestroyOptions extends DaemonOptions, OutputOptions {
  readonly yes?: boolean;
}

export function destroyCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = program
    .command('destroy')
    .description("remove a stack's resources (volumes with deletion_policy retain keep their data)")
    .argument('<stack>', 'the stack name')
    .option('-y, --yes', 'destroy without asking');
  withOutputOption(command, 'the result', 'with json or yaml, progress goes to stderr');
  withApiOption(command).action(async (stack: string, options: DestroyOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const format = outputFormat(options);
    const out = format === 'table' ? ctx.stdout : ctx.stderr;
    const color = useColor(ctx, program.opts(), out);
    // Asking first also fails early, with a clear message, for a stack that does not exist.
    const status = await client.stack(stack);
    const names = status.resources.map((r) => r.name);
    out.write(
      `Stack ${stack}: ${names.length} resource${names.length === 1 ? '' : 's'} to delete: ${names.join(', ') || '(none)'}\n`,
    );
    if (!options.yes && !(await confirm(ctx, `Destroy stack ${stack}?`, 'destroy'))) {
      ctx.stderr.write('Destroy cancelled; nothing changed.\n');
      return done(exitCodes.failed);
    }
    const result = await client.destroy(
      stack,
      progressPrinter(out, { color, live: useLiveProgress(ctx, out), names }),
    );
    if (format !== 'table') ctx.stdout.write(formatData(format, resultData(result)));
    const ok = reportResult(
      result,
      { out, err: ctx.stderr, color },
      { noun: 'destroy', done: 'destroyed' },
    );
    done(ok ? exitCodes.ok : exitCodes.failed);
  });
}
