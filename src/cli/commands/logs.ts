import type { Command } from 'commander';
import { createColors } from 'picocolors';

import type { ServiceLogLine } from '../../engine/types.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, splitTarget, withApiOption } from '../daemon.js';
import { UsageError } from '../errors.js';
import { exitCodes } from '../exit-codes.js';
import { untilInterrupted } from '../interrupt.js';
import type { OutputOptions } from '../output.js';
import { formatItem, outputFormat, withOutputOption } from '../output.js';

interface LogsOptions extends DaemonOptions, OutputOptions {
  readonly follow?: boolean;
  readonly tail?: string;
}

export function logsCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  const command = program
    .command('logs')
    .description(
      "a service's output, merged across its instances, each line after its instance id (secrets shown as (hidden))",
    )
    .argument('<target>', 'STACK/SERVICE')
    .option('-f, --follow', 'keep printing new lines, of new instances too, until Ctrl-C')
    .option('--tail <n>', "only the last N lines of each instance's history");
  withOutputOption(command, 'the lines', 'json gives an object per line, yaml a document');
  withApiOption(command).action(async (target: string, options: LogsOptions) => {
    const { stack, resource: service } = splitTarget(target);
    if (service === undefined) throw new UsageError(`'${target}' is not STACK/SERVICE`);
    const tail = lineCount(options.tail);
    const client = daemonClient(ctx, program.opts(), options);
    const format = outputFormat(options);
    const print =
      format === 'table'
        ? prefixed(useColor(ctx, program.opts()))
        : (line: ServiceLogLine) => formatItem(format, line);
    const read = async (signal: AbortSignal): Promise<void> => {
      const lines = client.logs(stack, service, { follow: options.follow ?? false, tail }, signal);
      for await (const line of lines) ctx.stdout.write(print(line));
    };
    if (options.follow) await untilInterrupted(ctx, read);
    else await read(new AbortController().signal);
    done(exitCodes.ok);
  });
}

function lineCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--tail ${text}: not a number of lines`);
  return n;
}

/**
 * `INSTANCE | line`, instance ids lined up as wide as the widest seen so far,
 * each instance in its own colour (on a terminal) so interleaved lines are
 * told apart at a glance, as `docker compose logs` does.
 */
function prefixed(color: boolean): (line: ServiceLogLine) => string {
  const c = createColors(color);
  const palette = [c.cyan, c.yellow, c.green, c.magenta, c.blue, c.red];
  const colours = new Map<string, (s: string) => string>();
  let width = 0;
  return (line) => {
    let paint = colours.get(line.instance);
    if (paint === undefined) {
      paint = palette[colours.size % palette.length] ?? ((s: string) => s);
      colours.set(line.instance, paint);
    }
    width = Math.max(width, line.instance.length);
    return `${paint(`${line.instance.padEnd(width)} |`)} ${line.line}\n`;
  };
}
