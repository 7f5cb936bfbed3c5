import type { Command } from 'commander';
import { createColors } from 'picocolors';

import type { EngineEvent } from '../../engine/types.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, withApiOption } from '../daemon.js';
import { UsageError } from '../errors.js';
import { exitCodes } from '../exit-codes.js';
import { untilInterrupted } from '../interrupt.js';
import type { OutputOptions } from '../output.js';
import { formatItem, outputFormat, withOutputOption } from '../output.js';
import { shortTime } from '../table.js';

interface EventsOptions extends DaemonOptions, OutputOptions {
  readonly follow?: boolean;
  readonly stack?: string;
  readonly since?: string;
}

export function eventsCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = program
    .command('events')
    .description(
      'what happened (applies, deploys, rollbacks, instances, audit), and with --follow what happens',
    )
    .option('-f, --follow', 'keep printing new events until Ctrl-C')
    .option('--stack <name>', 'only this stack')
    .option('--since <seq>', 'only events after this sequence number');
  withOutputOption(command, 'the events', 'json gives an object per line, yaml a document');
  withApiOption(command).action(async (options: EventsOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const filter = { stack: options.stack, since: sequence(options.since) };
    const c = createColors(useColor(ctx, program.opts()));
    const format = outputFormat(options);
    const print = (event: EngineEvent): void =>
      void ctx.stdout.write(format === 'table' ? formatEvent(event, c) : formatItem(format, event));
    if (!options.follow) {
      for (const event of await client.events(filter)) print(event);
      return done(exitCodes.ok);
    }
    await untilInterrupted(ctx, async (signal) => {
      for await (const event of client.follow(filter, signal)) print(event);
    });
    done(exitCodes.ok);
  });
}

function sequence(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--since ${text}: not a sequence number`);
  return n;
}

function formatEvent(e: EngineEvent, c: ReturnType<typeof createColors>): string {
  const where =
    e.stack === undefined ? '-' : e.resource === undefined ? e.stack : `${e.stack}/${e.resource}`;
  const failed = e.type.endsWith('failed') || e.phase === 'failed' || e.phase === 'unhealthy';
  const paint = failed ? c.red : (s: string) => s;
  const phase = e.phase === undefined ? '' : `${e.phase}: `;
  const who = e.who === undefined ? '' : c.dim(`  (${e.who})`);
  return `${c.dim(`${shortTime(e.at)} #${e.seq}`)}  ${paint(e.type.padEnd(16))}  ${where}  ${phase}${e.message}${who}\n`;
}
