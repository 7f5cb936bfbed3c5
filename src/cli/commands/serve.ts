import type { Command } from 'commander';

import { adminTokenPath } from '../../api/index.js';
import type { CliContext } from '../context.js';
import { droverHome } from '../context.js';
import type { ControlPlaneOptions } from '../control-plane.js';
import { parseListen, startControlPlane } from '../control-plane.js';
import { UsageError } from '../errors.js';
import { exitCodes } from '../exit-codes.js';

export interface ListenOptions {
  readonly proxyListen: string;
  readonly apiListen: string;
}

/** The `--proxy-listen` and `--api-listen` options of `serve` and `up`. */
export function withListenOptions(command: Command): Command {
  return command
    .option('--proxy-listen <host:port>', 'where the proxy answers', '127.0.0.1:8080')
    .option('--api-listen <host:port>', 'where the API answers', '127.0.0.1:7070');
}

/** The control plane's options from the command line; a malformed address is a usage error. */
export function controlPlaneOptions(
  ctx: CliContext,
  home: string,
  options: ListenOptions,
): ControlPlaneOptions {
  const listen = (flag: string, value: string): { host: string; port: number } => {
    try {
      return parseListen(value);
    } catch (error) {
      throw new UsageError(`${flag}: ${(error as Error).message}`);
    }
  };
  return {
    home,
    proxy: listen('--proxy-listen', options.proxyListen),
    api: listen('--api-listen', options.apiListen),
    onWarning: (m) => void ctx.stderr.write(`warning: ${m}\n`),
    onError: (m) => void ctx.stderr.write(`error: ${m}\n`),
  };
}

/** Resolves on the first SIGINT or SIGTERM, or when the context's signal aborts. */
export function untilStopped(ctx: CliContext): Promise<string> {
  return new Promise((resolve) => {
    const finish = (why: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      ctx.signal?.removeEventListener('abort', aborted);
      resolve(why);
    };
    const on = (signal: NodeJS.Signals): void => finish(signal);
    const aborted = (): void => finish('abort');
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    if (ctx.signal?.aborted) finish('abort');
    else ctx.signal?.addEventListener('abort', aborted, { once: true });
  });
}

export function serveCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = program
    .command('serve')
    .description('run the control plane in the foreground: state, engine, proxy and the HTTP API');
  withListenOptions(command).action(async (options: ListenOptions) => {
    const home = droverHome(ctx, program.opts());
    const plane = await startControlPlane(controlPlaneOptions(ctx, home, options));
    ctx.stdout.write(
      [
        'Drover is running.',
        `  API:    ${plane.api.address.url}  (admin token in ${adminTokenPath(home)})`,
        `  proxy:  ${plane.daemon.proxyUrl}`,
        'Ctrl-C stops the control plane; instances keep running and are re-adopted at the next start.',
        '',
      ].join('\n'),
    );
    try {
      await untilStopped(ctx);
    } finally {
      await plane.close();
    }
    done(exitCodes.ok);
  });
}
