import { resolve } from 'node:path';

import type { Command } from 'commander';

import { InvalidTemplateError, locateStack } from '../../engine/index.js';
import { renderPlan } from '../../plan/index.js';
import type { CliContext } from '../context.js';
import { useColor, useLiveProgress } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { confirm, daemonClient, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { formatData, outputFormat, withOutputOption } from '../output.js';
import type { ParameterOptions } from '../parameters.js';
import { collectParameters, withStackFile } from '../parameters.js';
import { progressPrinter, reportResult, resultData } from '../progress.js';

interface ApplyOptions extends ParameterOptions, DaemonOptions, OutputOptions {
  readonly stack?: string;
  readonly yes?: boolean;
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
  ).option('-y, --yes', 'apply without asking');
  withOutputOption(command, 'the result', 'with json or yaml, the plan and progress go to stderr');
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
    // With -o json|yaml, stdout carries only the result; people read the rest on stderr.
    const format = outputFormat(options);
    const out = format === 'table' ? ctx.stdout : ctx.stderr;
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
    const result = await client.apply(
      body,
      progressPrinter(out, { color, live: useLiveProgress(ctx, out), names }),
    );
    if (format !== 'table') {
      ctx.stdout.write(formatData(format, resultData(result)));
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
