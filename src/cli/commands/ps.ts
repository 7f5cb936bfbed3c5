import type { Command } from 'commander';
import { createColors } from 'picocolors';

import type { InstanceInfo } from '../../engine/types.js';
import { shortId } from '../../template/index.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { printData, withOutputOption } from '../output.js';
import type { Cell } from '../table.js';
import { table } from '../table.js';

interface PsOptions extends DaemonOptions, OutputOptions {
  readonly stack?: string;
  readonly service?: string;
}

export function psCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  const command = program
    .command('ps')
    .description('list the running instances')
    .option('--stack <name>', 'only this stack')
    .option('--service <name>', 'only this service');
  withOutputOption(command, 'the instances', 'json and yaml have every field');
  withApiOption(command).action(async (options: PsOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const instances = await client.instances({ stack: options.stack, service: options.service });
    printData(ctx, options, instances, () =>
      instances.length === 0
        ? 'No instances.\n'
        : instanceTable(instances, useColor(ctx, program.opts())),
    );
    done(exitCodes.ok);
  });
}

function instanceTable(instances: readonly InstanceInfo[], color: boolean): string {
  const c = createColors(color);
  const health: Record<InstanceInfo['health'], (s: string) => string> = {
    healthy: c.green,
    unhealthy: c.red,
    starting: c.yellow,
    unknown: c.dim,
  };
  const rows = instances.map((i): Cell[] => [
    i.id,
    i.stack,
    i.service,
    shortId(i.revision),
    i.state,
    { text: i.health, paint: health[i.health] },
    i.serving ? 'yes' : 'no',
    String(i.port),
    i.pid !== undefined ? `pid ${i.pid}` : i.container !== undefined ? shortId(i.container) : '-',
    i.dir ?? '-',
  ]);
  const header = ['ID', 'STACK', 'SERVICE', 'REVISION', 'STATE', 'HEALTH', 'SERVING', 'PORT'];
  return table([...header, 'PID/CONTAINER', 'DIR'], rows);
}
