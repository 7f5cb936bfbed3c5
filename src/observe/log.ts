import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import type { DestinationStream, Logger } from 'pino';
import { pino } from 'pino';

import type { ObservedEvent } from './metrics.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Where the JSON lines go: stderr, a file (appended, created 0600), or any stream (tests). */
export type LogDestination = 'stderr' | { readonly file: string } | NodeJS.WritableStream;

export interface DaemonLogOptions {
  readonly level?: LogLevel;
  readonly to: LogDestination;
}

export interface DaemonLog {
  readonly logger: Logger;
  /** Closes a file destination (lines are written synchronously: nothing is pending). */
  close(): Promise<void>;
}

/**
 * Keys whose values are never written, at the top of a line and one or two
 * levels down. Events and requests carry no secrets by design; this is the
 * second line of defence against a field added carelessly later.
 */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'token',
  'password',
  'secret',
  'secrets',
  'content',
  'env',
  'parameters',
  'sealed',
];
export const REDACTED_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/**
 * The daemon's structured log: one JSON object per line, `level` as a word,
 * `time` in ISO 8601. Lines are written synchronously, so a crash (or a
 * failpoint's SIGKILL) loses none of them.
 */
export function createDaemonLog(options: DaemonLogOptions): DaemonLog {
  const { to } = options;
  let destination: DestinationStream;
  let close = async (): Promise<void> => undefined;
  if (to === 'stderr') {
    destination = pino.destination({ dest: 2, sync: true });
  } else if ('file' in to) {
    mkdirSync(dirname(to.file), { recursive: true, mode: 0o700 });
    const file = pino.destination({ dest: to.file, sync: true, append: true, mode: 0o600 });
    destination = file;
    close = () =>
      new Promise((resolve) => {
        file.once('close', () => resolve());
        file.end();
      });
  } else {
    destination = to;
  }
  const logger = pino(
    {
      name: 'drover',
      level: options.level ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
  return { logger, close };
}

/** An event as the log writes it (the engine's `EngineEvent` fits). */
export interface LoggedEvent extends ObservedEvent {
  readonly seq?: number;
  readonly message: string;
}

const WARN_TYPES = new Set([
  'apply.failed',
  'deploy.failed',
  'reconcile.failed',
  'revision.failed',
  'config.failed',
  'job.failed',
  'instance.exited',
  'instance.unhealthy',
  'instance.orphan',
  'drift.detected',
]);
const WARN_PHASES = new Set(['failed', 'unhealthy', 'rolling-back']);

/**
 * Failures and what an operator should look at (exits, unhealthy or orphaned
 * instances, drift) at warn; progress of an operation at debug, unless it
 * failed; everything else at info.
 */
export function eventLevel(event: ObservedEvent): 'debug' | 'info' | 'warn' {
  if (WARN_TYPES.has(event.type)) return 'warn';
  if (event.type === 'progress')
    return event.phase !== undefined && WARN_PHASES.has(event.phase) ? 'warn' : 'debug';
  return 'info';
}

/** One engine event as one line: `event` is its type, `msg` its message. */
export function logEvent(logger: Logger, event: LoggedEvent): void {
  const level = eventLevel(event);
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    {
      event: event.type,
      ...(event.seq === undefined ? {} : { seq: event.seq }),
      ...(event.stack === undefined ? {} : { stack: event.stack }),
      ...(event.resource === undefined ? {} : { resource: event.resource }),
      ...(event.phase === undefined ? {} : { phase: event.phase }),
      ...(event.who === undefined ? {} : { who: event.who }),
      ...(event.data === undefined ? {} : { data: event.data }),
    },
    event.message,
  );
}

/** One API request, as the API reports it (its `ApiLogEntry` fits). */
export interface RequestEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly who?: string;
  readonly error?: unknown;
}

/** Probes and scrapes come every few seconds: they are logged at debug. */
const QUIET_PATHS = new Set(['/healthz', '/metrics']);

/** One API request as one line; a failure of ours (500) at error, with its stack. */
export function logRequest(logger: Logger, entry: RequestEntry): void {
  const fields = {
    method: entry.method,
    path: entry.path,
    status: entry.status,
    durationMs: entry.durationMs,
    ...(entry.who === undefined ? {} : { who: entry.who }),
  };
  const msg = `${entry.method} ${entry.path} → ${entry.status}`;
  if (entry.error !== undefined || entry.status >= 500) {
    const { error } = entry;
    // pino's `err` serializer writes the type, message and stack.
    const err = error === undefined || error instanceof Error ? error : new Error(String(error));
    logger.error(err === undefined ? fields : { ...fields, err }, msg);
  } else if (QUIET_PATHS.has(entry.path)) logger.debug(fields, msg);
  else logger.info(fields, msg);
}
