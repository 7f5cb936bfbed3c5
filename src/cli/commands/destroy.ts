import type { Command } from 'commander';

import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { confirm, daemonClient, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import { progressPrinter, reportResult } from '../progress.js';

interface DestroyOptions extends DaemonOptions {
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
  withApiOption(command).action(async (stack: string, options: DestroyOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const color = useColor(ctx, program.opts());
    // Asking first also fails early, with a clear message, for a stack that does not exist.
    const status = await client.stack(stack);
    const names = status.resources.map((r) => r.name);
    ctx.stdout.write(
      `Stack ${stack}: ${names.length} resource${names.length === 1 ? '' : 's'} to delete: ${names.join(', ') || '(none)'}\n`,
    );
    if (!options.yes && !(await confirm(ctx, `Destroy stack ${stack}?`, 'destroy'))) {
      ctx.stderr.write('Destroy cancelled; nothing changed.\n');
      return done(exitCodes.failed);
    }
    const result = await client.destroy(stack, progressPrinter(ctx.stdout, color, names));
    const ok = reportResult(
      result,
      { out: ctx.stdout, err: ctx.stderr, color },
      { noun: 'destroy', done: 'destroyed' },
    );
    done(ok ? exitCodes.ok : exitCodes.failed);
  });
}
