import type { Command } from 'commander';

import type { ApplyResult } from '../../engine/types.js';
import type { ApiClient, OnEvent } from '../api-client.js';
import type { CliContext } from '../context.js';
import { useColor, useLiveProgress } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { confirm, daemonClient, splitTarget, withApiOption } from '../daemon.js';
import { UsageError } from '../errors.js';
import { exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { formatData, outputFormat, withOutputOption } from '../output.js';
import { progressPrinter, reportResult, resultData } from '../progress.js';

interface RollbackOptions extends DaemonOptions, OutputOptions {
  readonly to?: string;
  readonly yes?: boolean;
}

export function rollbackCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = program
    .command('rollback')
    .description(
      'bring back an earlier revision of a service (STACK/SERVICE [--to REVISION], default: the one before), or of a whole stack (STACK --to N)',
    )
    .argument('<target>', 'STACK/SERVICE or STACK')
    .option('--to <revision>', 'a revision id (service) or stack revision number (stack)')
    .option('-y, --yes', 'roll back without asking');
  withOutputOption(command, 'the result', 'with json or yaml, progress goes to stderr');
  withApiOption(command).action(async (target: string, options: RollbackOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const rollback = rollbackOf(client, target, options.to);
    const format = outputFormat(options);
    const out = format === 'table' ? ctx.stdout : ctx.stderr;
    const color = useColor(ctx, program.opts(), out);
    if (!options.yes && !(await confirm(ctx, `Roll back ${rollback.what}?`, 'roll back'))) {
      ctx.stderr.write('Rollback cancelled; nothing changed.\n');
      return done(exitCodes.failed);
    }
    const result = await rollback.run(
      progressPrinter(out, { color, live: useLiveProgress(ctx, out), names: rollback.names }),
    );
    if (format !== 'table') ctx.stdout.write(formatData(format, resultData(result)));
    const ok = reportResult(
      result,
      { out, err: ctx.stderr, color },
      { noun: 'rollback', done: 'rolled back' },
    );
    done(ok ? exitCodes.ok : exitCodes.failed);
  });
}

interface Rollback {
  readonly what: string;
  readonly names: readonly string[];
  readonly run: (onEvent: OnEvent) => Promise<ApplyResult>;
}

function rollbackOf(client: ApiClient, target: string, to: string | undefined): Rollback {
  const { stack, resource: service } = splitTarget(target);
  if (service !== undefined) {
    return {
      what: `${stack}/${service} to ${to === undefined ? 'its previous revision' : `revision ${to}`}`,
      names: [service],
      run: (onEvent) => client.rollbackService(stack, service, to, onEvent),
    };
  }
  if (to === undefined) {
    throw new UsageError(
      'rolling back a whole stack needs --to N (see `drover history STACK`); for one service use STACK/SERVICE',
    );
  }
  const number = Number(to);
  if (!Number.isInteger(number) || number < 1) {
    throw new UsageError(`--to ${to}: a stack revision is a whole number from 1`);
  }
  return {
    what: `stack ${stack} to stack revision ${number}`,
    names: [],
    run: (onEvent) => client.rollbackStack(stack, number, onEvent),
  };
}
