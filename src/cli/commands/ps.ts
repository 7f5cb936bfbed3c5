import type { Command } from 'commander';
import { createColors } from 'picocolors';

import type { InstanceInfo } from '../../engine/types.js';
import { shortId } from '../../template/index.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import type { Cell } from '../table.js';
import { table } from '../table.js';

interface PsOptions extends DaemonOptions {
  readonly json?: boolean;
  readonly stack?: string;
  readonly service?: string;
}

export function psCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  const command = program
    .command('ps')
    .description('list the running instances')
    .option('--stack <name>', 'only this stack')
    .option('--service <name>', 'only this service')
    .option('--json', 'print every field of every instance as JSON');
  withApiOption(command).action(async (options: PsOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const instances = await client.instances({ stack: options.stack, service: options.service });
    if (options.json) {
      ctx.stdout.write(`${JSON.stringify(instances, null, 2)}\n`);
    } else if (instances.length === 0) {
      ctx.stdout.write('No instances.\n');
    } else {
      const c = createColors(useColor(ctx, program.opts()));
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
        i.pid !== undefined
          ? `pid ${i.pid}`
          : i.container !== undefined
            ? shortId(i.container)
            : '-',
        i.dir ?? '-',
      ]);
      const header = ['ID', 'STACK', 'SERVICE', 'REVISION', 'STATE', 'HEALTH', 'SERVING', 'PORT'];
      ctx.stdout.write(table([...header, 'PID/CONTAINER', 'DIR'], rows));
    }
    done(exitCodes.ok);
  });
}
