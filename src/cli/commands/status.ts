import type { Command } from 'commander';
import { createColors } from 'picocolors';

import type { StackStatus } from '../../engine/types.js';
import { shortId } from '../../template/index.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import { displayJson } from '../progress.js';
import { shortTime, table } from '../table.js';

interface StatusOptions extends DaemonOptions {
  readonly json?: boolean;
}

export function statusCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = program
    .command('status')
    .description('what each stack runs: resources, revisions, replicas, deployments under way')
    .argument('[stack]', 'only this stack')
    .option('--json', 'print the status as JSON');
  withApiOption(command).action(async (stack: string | undefined, options: StatusOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const stacks = stack === undefined ? await client.stacks() : [await client.stack(stack)];
    if (options.json) {
      ctx.stdout.write(`${JSON.stringify(stack === undefined ? stacks : stacks[0], null, 2)}\n`);
    } else if (stacks.length === 0) {
      ctx.stdout.write('No stacks yet: apply one with `drover apply FILE`.\n');
    } else {
      const color = useColor(ctx, program.opts());
      ctx.stdout.write(stacks.map((s) => renderStatus(s, color)).join('\n'));
    }
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
