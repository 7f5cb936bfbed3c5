import type { Command } from 'commander';
import { createColors } from 'picocolors';

import type { EngineEvent } from '../../engine/types.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, withApiOption } from '../daemon.js';
import { UsageError } from '../errors.js';
import { exitCodes } from '../exit-codes.js';
import { shortTime } from '../table.js';

interface EventsOptions extends DaemonOptions {
  readonly follow?: boolean;
  readonly stack?: string;
  readonly since?: string;
  readonly json?: boolean;
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
    .option('--since <seq>', 'only events after this sequence number')
    .option('--json', 'one JSON object per line');
  withApiOption(command).action(async (options: EventsOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const filter = { stack: options.stack, since: sequence(options.since) };
    const c = createColors(useColor(ctx, program.opts()));
    const print = (event: EngineEvent): void =>
      void ctx.stdout.write(options.json ? `${JSON.stringify(event)}\n` : formatEvent(event, c));
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

/** Runs `task` until Ctrl-C (or the context's signal), which ends it quietly. */
async function untilInterrupted(
  ctx: CliContext,
  task: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const interrupt = (): void => stop.abort();
  process.once('SIGINT', interrupt);
  ctx.signal?.addEventListener('abort', interrupt, { once: true });
  if (ctx.signal?.aborted) stop.abort();
  try {
    await task(stop.signal);
  } finally {
    process.off('SIGINT', interrupt);
    ctx.signal?.removeEventListener('abort', interrupt);
  }
}
