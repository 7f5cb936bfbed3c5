import { resolve } from 'node:path';

import type { Command } from 'commander';

import { InvalidTemplateError, locateStack } from '../../engine/index.js';
import { renderPlan } from '../../plan/index.js';
import type { CliContext } from '../context.js';
import { droverHome, useColor, useLiveProgress } from '../context.js';
import { startControlPlane } from '../control-plane.js';
import { exitCodes } from '../exit-codes.js';
import type { ParameterOptions } from '../parameters.js';
import { collectParameters, withStackFile } from '../parameters.js';
import { progressPrinter, reportResult } from '../progress.js';

import type { ListenOptions, LogOptions } from './serve.js';
import {
  controlPlaneOptions,
  logSettings,
  openDaemonLog,
  untilStopped,
  withListenOptions,
  withLogOptions,
} from './serve.js';

interface UpOptions extends ParameterOptions, ListenOptions, LogOptions {
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
  withLogOptions(withListenOptions(command), 'home').action(
    async (arg: string, options: UpOptions) => {
      const { file, stack } = locateStack(arg, options.stack);
      const params = collectParameters(options);
      if (params.diagnostics.length > 0) throw new InvalidTemplateError(params.diagnostics);
      const home = droverHome(ctx, program.opts());
      // Progress goes to standard output: the daemon's JSON log goes to a file unless told otherwise.
      const settings = logSettings(ctx, home, options, 'home');
      const planeOptions = controlPlaneOptions(ctx, home, options, settings);
      const log = openDaemonLog(ctx, settings);
      let plane;
      try {
        plane = await startControlPlane({ ...planeOptions, log: log.logger });
      } catch (error) {
        await log.close();
        throw error;
      }
      try {
        const color = useColor(ctx, program.opts());
        const request = { file: resolve(file), stack, parameters: params.inputs };
        // What this start changes (nothing, when the instances were adopted as they are).
        const plan = await plane.daemon.engine.plan(request);
        ctx.stdout.write(renderPlan(plan, { color }));
        const result = await plane.daemon.engine.apply(
          { ...request, who: 'cli:up' },
          progressPrinter(ctx.stdout, {
            color,
            live: useLiveProgress(ctx),
            names: plan.actions.map((a) => a.resource),
          }),
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
            ...(settings.file === undefined ? [] : [`The daemon logs to ${settings.file}.`]),
            '',
          ].join('\n'),
        );
        await untilStopped(ctx);
        done(exitCodes.ok);
      } finally {
        await plane.close();
        await log.close();
      }
    },
  );
}
