import { join, resolve as resolvePath } from 'node:path';

import type { Command } from 'commander';

import { adminTokenPath } from '../../api/index.js';
import type { DaemonLog, LogLevel } from '../../observe/index.js';
import { createDaemonLog, isLogLevel, LOG_LEVELS } from '../../observe/index.js';
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

export interface LogOptions {
  readonly logLevel?: string;
  readonly logFile?: string;
}

/** `serve` logs to standard error (a supervisor collects it); `up` to a file, as its terminal shows progress. */
export type LogDefault = 'stderr' | 'home';

/** The `--log-level` and `--log-file` options of `serve` and `up`. */
export function withLogOptions(command: Command, fallback: LogDefault): Command {
  const where = fallback === 'stderr' ? '-' : '$DROVER_HOME/logs/daemon.log';
  return command
    .option(
      '--log-level <level>',
      `the daemon's log level, ${LOG_LEVELS.join('|')} (default: $DROVER_LOG_LEVEL or info)`,
    )
    .option(
      '--log-file <path>',
      `where the daemon's JSON log lines go, - for standard error (default: $DROVER_LOG_FILE or ${where})`,
    );
}

/** Where the daemon's JSON log goes and from which level, as the options say. */
export interface LogSettings {
  readonly level: LogLevel;
  /** Absolute; undefined for standard error. */
  readonly file?: string;
}

/** `--log-level`, else $DROVER_LOG_LEVEL, else info; `--log-file`, else $DROVER_LOG_FILE, else the command's default. */
export function logSettings(
  ctx: CliContext,
  home: string,
  options: LogOptions,
  fallback: LogDefault,
): LogSettings {
  const level = options.logLevel ?? nonEmpty(ctx.env['DROVER_LOG_LEVEL']) ?? 'info';
  if (!isLogLevel(level))
    throw new UsageError(`--log-level: '${level}' is not one of ${LOG_LEVELS.join(', ')}`);
  const where =
    options.logFile ??
    nonEmpty(ctx.env['DROVER_LOG_FILE']) ??
    (fallback === 'stderr' ? '-' : join(home, 'logs', 'daemon.log'));
  return where === '-' ? { level } : { level, file: resolvePath(where) };
}

/** Opens the log (a file is created 0600 and appended to). */
export function openDaemonLog(ctx: CliContext, settings: LogSettings): DaemonLog {
  return createDaemonLog({
    level: settings.level,
    to: settings.file === undefined ? ctx.stderr : { file: settings.file },
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The control plane's options from the command line; a malformed address is
 * a usage error. Warnings and API failures are told on standard error as
 * short lines, unless the JSON log goes there (it has them, at warn and error):
 * standard error carries one or the other, never both mixed.
 */
export function controlPlaneOptions(
  ctx: CliContext,
  home: string,
  options: ListenOptions,
  log?: LogSettings,
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
    ...(log === undefined || log.file !== undefined
      ? {
          onWarning: (m: string) => void ctx.stderr.write(`warning: ${m}\n`),
          onError: (m: string) => void ctx.stderr.write(`error: ${m}\n`),
        }
      : {}),
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
  withLogOptions(withListenOptions(command), 'stderr').action(
    async (options: ListenOptions & LogOptions) => {
      const home = droverHome(ctx, program.opts());
      const settings = logSettings(ctx, home, options, 'stderr');
      const planeOptions = controlPlaneOptions(ctx, home, options, settings);
      const log = openDaemonLog(ctx, settings);
      try {
        const plane = await startControlPlane({ ...planeOptions, log: log.logger });
        ctx.stdout.write(
          [
            'Drover is running.',
            `  API:    ${plane.api.address.url}  (admin token in ${adminTokenPath(home)})`,
            `  UI:     ${plane.api.address.url}/ui/`,
            `  proxy:  ${plane.daemon.proxyUrl}`,
            ...(settings.file === undefined ? [] : [`  log:    ${settings.file}`]),
            'Ctrl-C stops the control plane; instances keep running and are re-adopted at the next start.',
            '',
          ].join('\n'),
        );
        try {
          await untilStopped(ctx);
        } finally {
          await plane.close();
        }
      } finally {
        await log.close();
      }
      done(exitCodes.ok);
    },
  );
}
