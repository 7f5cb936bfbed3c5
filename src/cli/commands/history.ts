import type { Command } from 'commander';
import { createColors } from 'picocolors';

import type { RevisionInfo, StackRevisionInfo } from '../../engine/types.js';
import { shortId } from '../../template/index.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, splitTarget, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { printData, withOutputOption } from '../output.js';
import { displayJson } from '../progress.js';
import { shortTime, table } from '../table.js';

type HistoryOptions = DaemonOptions & OutputOptions;

export function historyCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = program
    .command('history')
    .description("a stack's revisions (STACK), or one resource's revisions (STACK/RESOURCE)")
    .argument('<target>', 'STACK or STACK/RESOURCE');
  withOutputOption(command, 'the history');
  withApiOption(command).action(async (target: string, options: HistoryOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const { stack, resource } = splitTarget(target);
    const color = useColor(ctx, program.opts());
    const list =
      resource === undefined
        ? await client.stackHistory(stack)
        : await client.history(stack, resource);
    printData(ctx, options, list, () => {
      if (list.length === 0) return 'No revisions recorded.\n';
      if (resource === undefined) return stackTable(list as StackRevisionInfo[]);
      return revisionTable(list as RevisionInfo[], color);
    });
    done(exitCodes.ok);
  });
}

function stackTable(list: readonly StackRevisionInfo[]): string {
  const rows = list.map((r) => [
    String(r.number),
    r.kind,
    shortTime(r.createdAt),
    r.createdBy,
    Object.entries(r.resources)
      .map(([name, id]) => `${name}@${shortId(id)}`)
      .join(' '),
  ]);
  return table(['STACK REVISION', 'KIND', 'CREATED', 'BY', 'RESOURCES'], rows);
}

function revisionTable(list: readonly RevisionInfo[], color: boolean): string {
  const c = createColors(color);
  const rows = list.map((r) => [
    r.current ? { text: '*', paint: c.green } : '',
    shortId(r.id),
    shortTime(r.createdAt),
    r.createdBy,
    Object.entries(r.parameters)
      .map(([name, value]) => `${name}=${displayJson(value)}`)
      .join(' '),
  ]);
  return table(['', 'REVISION', 'CREATED', 'BY', 'PARAMETERS'], rows);
}
