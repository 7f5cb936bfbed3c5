import { resolve } from 'node:path';

import type { Command } from 'commander';

import { InvalidTemplateError, locateStack } from '../../engine/index.js';
import { renderPlan } from '../../plan/index.js';
import type { CliContext } from '../context.js';
import { droverHome, useColor } from '../context.js';
import { startControlPlane } from '../control-plane.js';
import { exitCodes } from '../exit-codes.js';
import type { ParameterOptions } from '../parameters.js';
import { collectParameters, withStackFile } from '../parameters.js';
import { progressPrinter, reportResult } from '../progress.js';

import type { ListenOptions } from './serve.js';
import { controlPlaneOptions, untilStopped, withListenOptions } from './serve.js';

interface UpOptions extends ParameterOptions, ListenOptions {
  readonly stack?: string;
}

export function upCommand(program: Command, ctx: CliContext, done: (code: number) => void): void {
  const command = withStackFile(
    program
      .command('up')
      .description(
        'serve and apply in one foreground process: the stack comes up and is served until Ctrl-C',
      ),
    { stackName: true },
  );
  withListenOptions(command).action(async (arg: string, options: UpOptions) => {
    const { file, stack } = locateStack(arg, options.stack);
    const params = collectParameters(options);
    if (params.diagnostics.length > 0) throw new InvalidTemplateError(params.diagnostics);
    const home = droverHome(ctx, program.opts());
    const plane = await startControlPlane(controlPlaneOptions(ctx, home, options));
    try {
      const color = useColor(ctx, program.opts());
      const request = { file: resolve(file), stack, parameters: params.inputs };
      // What this start changes (nothing, when the instances were adopted as they are).
      const plan = await plane.daemon.engine.plan(request);
      ctx.stdout.write(renderPlan(plan, { color }));
      const result = await plane.daemon.engine.apply(
        { ...request, who: 'cli:up' },
        progressPrinter(
          ctx.stdout,
          color,
          plan.actions.map((a) => a.resource),
        ),
      );
      const ok = reportResult(
        result,
        { out: ctx.stdout, err: ctx.stderr, color },
        { noun: 'apply', done: 'is up' },
      );
      if (!ok) {
        done(exitCodes.failed);
        return;
      }
      ctx.stdout.write(
        [
          '',
          `Serving through ${plane.daemon.proxyUrl}; API on ${plane.api.address.url}.`,
          `Ctrl-C stops the control plane; the instances keep running (drover destroy ${stack} removes them).`,
          '',
        ].join('\n'),
      );
      await untilStopped(ctx);
      done(exitCodes.ok);
    } finally {
      await plane.close();
    }
  });
}
