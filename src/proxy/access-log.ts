import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export interface AccessLogEntry {
  readonly time: string;
  readonly remote: string;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly route?: string;
  readonly service?: string;
  readonly instance?: string;
  readonly revision?: string;
  /** Why the proxy answered itself (no route, no backend, upstream error). */
  readonly error?: string;
}

export type AccessLog = (entry: AccessLogEntry) => void;

/** One JSON object per line, appended to a file (or any stream). */
export function jsonLinesAccessLog(target: string | Writable): {
  log: AccessLog;
  close: () => Promise<void>;
} {
  const stream = typeof target === 'string' ? createWriteStream(target, { flags: 'a' }) : target;
  return {
    log: (entry) => void stream.write(`${JSON.stringify(entry)}\n`),
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
