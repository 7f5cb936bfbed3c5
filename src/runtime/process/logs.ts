import { closeSync, openSync } from 'node:fs';
import { copyFile, open, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { LogLine, LogOptions } from '../runtime.js';

const STREAMS = ['stdout', 'stderr'] as const;

export function logFile(dir: string, stream: 'stdout' | 'stderr', generation = 0): string {
  return join(dir, generation === 0 ? `${stream}.log` : `${stream}.log.${generation}`);
}

/** File descriptors an instance writes its output to (appending, so rotation can truncate under it). */
export function openLogFds(dir: string): [number, number] {
  return [
    openSync(logFile(dir, 'stdout'), 'a', 0o640),
    openSync(logFile(dir, 'stderr'), 'a', 0o640),
  ];
}

export function closeFds(fds: readonly number[]): void {
  for (const fd of fds) closeSync(fd);
}

/**
 * Size-based rotation, copy-then-truncate: the instance keeps its descriptor
 * (Drover is not in the path of its output, so it survives a restart of
 * Drover); the few bytes written between the copy and the truncate are lost,
 * as with logrotate's copytruncate.
 */
export async function rotate(dir: string, maxBytes: number, keep: number): Promise<void> {
  for (const stream of STREAMS) {
    const current = logFile(dir, stream);
    let size: number;
    try {
      size = (await stat(current)).size;
    } catch {
      continue;
    }
    if (size <= maxBytes) continue;
    await rm(logFile(dir, stream, keep), { force: true });
    for (let g = keep - 1; g >= 1; g--) {
      await rename(logFile(dir, stream, g), logFile(dir, stream, g + 1)).catch(() => undefined);
    }
    if (keep >= 1) await copyFile(current, logFile(dir, stream, 1));
    await truncate(current, 0);
  }
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * An instance's output: the kept history (rotated files first), then, when
 * following, what is appended, until the signal aborts or `stillRunning`
 * says the instance is gone.
 */
export async function* readLogs(
  dir: string,
  options: LogOptions & { stillRunning?: () => Promise<boolean>; keep: number },
): AsyncIterable<LogLine> {
  const history: LogLine[] = [];
  const offsets = new Map<string, number>();
  for (const stream of STREAMS) {
    for (let g = options.keep; g >= 0; g--) {
      let text: string;
      try {
        text = await readFile(logFile(dir, stream, g), 'utf8');
      } catch {
        continue;
      }
      if (g === 0) offsets.set(stream, Buffer.byteLength(text));
      for (const line of splitLines(text)) history.push({ stream, line });
    }
  }
  const start = options.tail === undefined ? 0 : Math.max(0, history.length - options.tail);
  for (const line of history.slice(start)) yield line;
  if (!options.follow) return;

  const partial = new Map<string, string>();
  while (!options.signal?.aborted) {
    let grew = false;
    for (const stream of STREAMS) {
      const file = logFile(dir, stream);
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch {
        continue;
      }
      let offset = offsets.get(stream) ?? 0;
      if (size < offset) offset = 0; // rotated under us
      if (size === offset) continue;
      const handle = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(size - offset);
        await handle.read(buffer, 0, buffer.length, offset);
        offsets.set(stream, size);
        const text = (partial.get(stream) ?? '') + buffer.toString('utf8');
        const lines = text.split('\n');
        partial.set(stream, lines.pop() ?? '');
        for (const line of lines) yield { stream, line };
        grew = true;
      } finally {
        await handle.close();
      }
    }
    if (!grew && options.stillRunning && !(await options.stillRunning())) return;
    if (!grew) await sleep(100, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
