import type { Command } from 'commander';

import { InvalidTemplateError, locateStack, planStackFile } from '../../engine/index.js';
import { planJson, renderPlan } from '../../plan/index.js';
import type { CliContext } from '../context.js';
import { droverHome, useColor } from '../context.js';
import { exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { printData, withOutputOption } from '../output.js';
import type { ParameterOptions } from '../parameters.js';
import { collectParameters, withStackFile } from '../parameters.js';

interface PlanOptions extends ParameterOptions, OutputOptions {
  readonly stack?: string;
  readonly verbose?: boolean;
  readonly proxyUrl?: string;
}

export function planCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  const command = withStackFile(
    program
      .command('plan')
      .description('show what an apply of the template would create, replace, update or delete'),
    { stackName: true },
  )
    .option('-v, --verbose', 'also list unchanged resources')
    .option(
      '--proxy-url <url>',
      'where the proxy answers, for route URLs',
      'http://127.0.0.1:8080',
    );
  withOutputOption(command, 'the plan').action(async (arg: string, options: PlanOptions) => {
    const { file, stack } = locateStack(arg, options.stack);
    const params = collectParameters(options);
    if (params.diagnostics.length > 0) throw new InvalidTemplateError(params.diagnostics);
    const { plan } = await planStackFile({
      file,
      stack,
      parameters: params.inputs,
      home: droverHome(ctx, program.opts()),
      proxyUrl: options.proxyUrl,
    });
    printData(ctx, options, planJson(plan), () =>
      renderPlan(plan, { color: useColor(ctx, program.opts()), verbose: options.verbose }),
    );
    done(exitCodes.ok);
  });
}
