import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import type Docker from 'dockerode';

import type { InstanceHandle, LogLine, LogOptions } from '../runtime.js';

import { isNotFound, wrapEngineError } from './client.js';
import { containerRef } from './observe.js';
import { asReadable, demux, frameLines } from './streams.js';

/** Where an instance's output is kept once its container is removed. */
export function savedLogFile(home: string, id: string): string {
  return join(home, 'logs', `${id}.log`);
}

/** A finished container's output as one chunk, or a following stream. */
async function open(
  docker: Docker,
  handle: InstanceHandle,
  options: LogOptions,
  signal: AbortSignal,
): Promise<AsyncIterable<unknown>> {
  const container = docker.getContainer(containerRef(handle));
  const common = {
    stdout: true,
    stderr: true,
    timestamps: true,
    ...(options.tail === undefined ? {} : { tail: options.tail }),
  };
  if (options.follow) {
    return asReadable(await container.logs({ ...common, follow: true, abortSignal: signal }));
  }
  const buffer: unknown = await container.logs({ ...common, follow: false });
  return once(buffer);
}

/** The engine's answer for logs that are not followed: one chunk of bytes. */
async function* once(buffer: unknown): AsyncIterable<Buffer> {
  if (!Buffer.isBuffer(buffer)) {
    throw new TypeError('the Docker client returned logs that are not bytes');
  }
  yield buffer;
}

/** `2026-01-02T03:04:05.123456789Z text` → the time (as ISO, to the millisecond) and the text. */
function parseTimestamped(stream: 'stdout' | 'stderr', text: string): LogLine {
  const space = text.indexOf(' ');
  const at = space > 0 ? new Date(text.slice(0, space)) : undefined;
  if (at === undefined || Number.isNaN(at.getTime())) return { stream, line: text };
  return { stream, line: text.slice(space + 1), at: at.toISOString() };
}

/**
 * An instance's output, oldest first; when following, until the container
 * stops (the engine ends the stream) or the signal aborts. Once the container
 * is removed, the copy kept at stop is read instead (its lines are all
 * reported as stdout: the copy interleaves both streams).
 */
export async function* readLogs(
  docker: Docker,
  home: string,
  handle: InstanceHandle,
  options: LogOptions,
  closed: AbortSignal,
): AsyncIterable<LogLine> {
  const signal = AbortSignal.any([closed, ...(options.signal ? [options.signal] : [])]);
  if (signal.aborted) return;
  let chunks: AsyncIterable<unknown>;
  try {
    chunks = await open(docker, handle, options, signal);
  } catch (error) {
    if (signal.aborted) return;
    if (!isNotFound(error)) throw wrapEngineError(`cannot read the logs of ${handle.id}`, error);
    yield* readSaved(home, handle, options);
    return;
  }
  const stream = chunks instanceof Readable ? chunks : undefined;
  const stop = (): void => {
    stream?.destroy();
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const { stream: which, line } of frameLines(demux(chunks))) {
      yield parseTimestamped(which, line);
    }
  } catch (error) {
    // Aborting tears the connection down under the reader: that is the end, not a failure.
    if (!signal.aborted) throw wrapEngineError(`lost the logs of ${handle.id}`, error);
  } finally {
    signal.removeEventListener('abort', stop);
    stream?.destroy();
  }
}

async function* readSaved(
  home: string,
  handle: InstanceHandle,
  options: LogOptions,
): AsyncIterable<LogLine> {
  let text: string;
  try {
    text = await readFile(savedLogFile(home, handle.id), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const start = options.tail === undefined ? 0 : Math.max(0, lines.length - options.tail);
  for (const line of lines.slice(start)) yield { stream: 'stdout', line };
}

/**
 * Copies a container's whole output (both streams, in order) to the
 * instance's log file, so that it outlives the container.
 */
export async function saveLogs(
  docker: Docker,
  home: string,
  container: string,
  id: string,
): Promise<void> {
  const buffer: unknown = await docker
    .getContainer(container)
    .logs({ stdout: true, stderr: true, follow: false });
  const payloads: Buffer[] = [];
  for await (const frame of demux(once(buffer))) payloads.push(frame.payload);
  const file = savedLogFile(home, id);
  await mkdir(join(home, 'logs'), { recursive: true });
  await writeFile(file, Buffer.concat(payloads), { mode: 0o640 });
}
