import { existsSync } from 'node:fs';

import type { Command } from 'commander';
import { Option } from 'commander';

import { InvalidTemplateError, locateStack, planStackFile } from '../../engine/index.js';
import type { GraphFormat, StackGraph } from '../../graph/index.js';
import { buildGraph, graphRenderers } from '../../graph/index.js';
import type { CliContext } from '../context.js';
import { droverHome } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import type { ParameterOptions } from '../parameters.js';
import { collectParameters, repeatable } from '../parameters.js';

interface GraphOptions extends ParameterOptions, DaemonOptions {
  readonly format: GraphFormat;
  readonly stack?: string;
}

/** A path that exists, or that looks like one, is a template; anything else names a stack. */
export function isTemplatePath(target: string): boolean {
  return existsSync(target) || /[\\/]|\.(ya?ml|json)$/i.test(target);
}

export function graphCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = program
    .command('graph')
    .description(
      "print a stack's resources and their dependencies as Mermaid or DOT: from a template (FILE), or from the daemon with live health (STACK)",
    )
    .argument('<target>', 'a stack template (or a directory with stack.yaml), or an applied stack')
    .addOption(
      new Option('--format <format>', 'what to print')
        .choices(Object.keys(graphRenderers))
        .default('mermaid'),
    )
    .option('-p, --param <name=value>', 'FILE: a parameter value (repeatable)', repeatable)
    .option(
      '--parameters <file>',
      'FILE: a YAML/JSON file of parameter values (repeatable)',
      repeatable,
    )
    .option('--stack <name>', "FILE: the stack's name (default: the file's base name)");
  withApiOption(command).action(async (target: string, options: GraphOptions) => {
    const graph = isTemplatePath(target)
      ? await templateGraph(ctx, program, target, options)
      : await daemonClient(ctx, program.opts(), options).graph(target);
    ctx.stdout.write(graphRenderers[options.format](graph));
    done(exitCodes.ok);
  });
}

/** The template compiled as `drover plan` compiles it; nothing runs, so no health. */
async function templateGraph(
  ctx: CliContext,
  program: Command,
  target: string,
  options: GraphOptions,
): Promise<StackGraph> {
  const { file, stack } = locateStack(target, options.stack);
  const params = collectParameters(options);
  if (params.diagnostics.length > 0) throw new InvalidTemplateError(params.diagnostics);
  const compiled = await planStackFile({
    file,
    stack,
    parameters: params.inputs,
    home: droverHome(ctx, program.opts()),
  });
  return buildGraph(stack, compiled.stack.resources);
}
