import type { Command } from 'commander';
import { createColors } from 'picocolors';

import type { StackStatus } from '../../engine/types.js';
import { shortId } from '../../template/index.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { printData, withOutputOption } from '../output.js';
import { displayJson } from '../progress.js';
import { shortTime, table } from '../table.js';

type StatusOptions = DaemonOptions & OutputOptions;

export function statusCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = program
    .command('status')
    .description('what each stack runs: resources, revisions, replicas, deployments under way')
    .argument('[stack]', 'only this stack');
  withOutputOption(command, 'the status');
  withApiOption(command).action(async (stack: string | undefined, options: StatusOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const stacks = stack === undefined ? await client.stacks() : [await client.stack(stack)];
    printData(ctx, options, stack === undefined ? stacks : stacks[0], () => {
      if (stacks.length === 0) return 'No stacks yet: apply one with `drover apply FILE`.\n';
      const color = useColor(ctx, program.opts());
      return stacks.map((s) => renderStatus(s, color)).join('\n');
    });
    done(exitCodes.ok);
  });
}

function renderStatus(s: StackStatus, color: boolean): string {
  const c = createColors(color);
  const facts = [
    s.stackRevision === undefined ? 'not applied' : `revision ${s.stackRevision}`,
    ...(s.appliedAt ? [`applied ${shortTime(s.appliedAt)}`] : []),
    ...(s.file ? [s.file] : []),
  ];
  const rows = s.resources.map((r) => {
    const replicas = r.replicas;
    const settled =
      replicas && replicas.running === replicas.desired && replicas.healthy === replicas.desired;
    return [
      r.name,
      r.type,
      shortId(r.revision),
      replicas
        ? {
            text: `${replicas.running}/${replicas.desired} running, ${replicas.healthy} healthy`,
            paint: settled ? c.green : c.yellow,
          }
        : '-',
      r.deployment
        ? `${r.deployment.strategy} ${r.deployment.phase} → ${shortId(r.deployment.to)}`
        : '-',
    ];
  });
  const lines = [
    `${c.bold(s.stack)}  ${facts.join(', ')}\n`,
    indent(table(['RESOURCE', 'TYPE', 'REVISION', 'REPLICAS', 'DEPLOYMENT'], rows)),
  ];
  if (s.outputs.length > 0) {
    lines.push('  Outputs:\n');
    for (const o of s.outputs) lines.push(`    ${o.name} = ${displayJson(o.value)}\n`);
  }
  return lines.join('');
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}
