import { resolve } from 'node:path';

import type { Command } from 'commander';

import { InvalidTemplateError, locateStack } from '../../engine/index.js';
import { planJson, renderPlan } from '../../plan/index.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { confirm, daemonClient, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import type { ParameterOptions } from '../parameters.js';
import { collectParameters, withStackFile } from '../parameters.js';
import { progressPrinter, reportResult } from '../progress.js';

interface ApplyOptions extends ParameterOptions, DaemonOptions {
  readonly stack?: string;
  readonly yes?: boolean;
  readonly json?: boolean;
}

export function applyCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = withStackFile(
    program
      .command('apply')
      .description('plan, confirm, then converge a stack to the template through the daemon'),
    { stackName: true },
  )
    .option('-y, --yes', 'apply without asking')
    .option('--json', 'print the result as JSON (progress goes to stderr)');
  withApiOption(command).action(async (arg: string, options: ApplyOptions) => {
    const { file, stack } = locateStack(arg, options.stack);
    const params = collectParameters(options);
    if (params.diagnostics.length > 0) throw new InvalidTemplateError(params.diagnostics);
    const client = daemonClient(ctx, program.opts(), options);
    const body = {
      // The daemon reads the file itself and does not share our working directory.
      file: resolve(file),
      stack,
      parameters: params.inputs.map((p) => ({ name: p.name, value: p.value })),
    };
    // With --json, stdout carries only the result; people read the rest on stderr.
    const out = options.json ? ctx.stderr : ctx.stdout;
    const color = useColor(ctx, program.opts(), out);

    const plan = await client.plan(body);
    out.write(renderPlan(plan, { color }));
    const changes = plan.actions.some((a) => a.action !== 'noop');
    if (changes && !options.yes) {
      if (!(await confirm(ctx, `Apply these changes to stack ${plan.stack}?`, 'apply'))) {
        ctx.stderr.write('Apply cancelled; nothing changed.\n');
        return done(exitCodes.failed);
      }
    }
    const names = plan.actions.map((a) => a.resource);
    const result = await client.apply(body, progressPrinter(out, color, names));
    if (options.json) {
      ctx.stdout.write(`${JSON.stringify({ ...result, plan: planJson(result.plan) }, null, 2)}\n`);
    }
    const ok = reportResult(
      result,
      { out, err: ctx.stderr, color },
      {
        noun: 'apply',
        done: 'converged',
      },
    );
    done(ok ? exitCodes.ok : exitCodes.failed);
  });
}
