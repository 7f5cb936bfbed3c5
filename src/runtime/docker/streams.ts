import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * Docker's multiplexed stream format (logs and exec without a TTY): frames of
 * an 8-byte header — stream type (1 stdout, 2 stderr), three zero bytes, the
 * payload size as uint32 big-endian — then the payload.
 */

export interface Frame {
  readonly stream: 'stdout' | 'stderr';
  readonly payload: Buffer;
}

const HEADER = 8;

/** Splits a multiplexed byte stream into frames, however the chunks fall. */
export async function* demux(chunks: AsyncIterable<unknown>): AsyncIterable<Frame> {
  let pending = Buffer.alloc(0);
  for await (const chunk of chunks) {
    pending = Buffer.concat([pending, toBuffer(chunk)]);
    while (pending.length >= HEADER) {
      const size = pending.readUInt32BE(4);
      if (pending.length < HEADER + size) break;
      const type = pending[0];
      const payload = pending.subarray(HEADER, HEADER + size);
      pending = pending.subarray(HEADER + size);
      // Type 0 is stdin (never attached here); 3 is the engine's own error text, kept as stderr.
      if (type === 1) yield { stream: 'stdout', payload };
      else if (type === 2 || type === 3) yield { stream: 'stderr', payload };
    }
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError(`unexpected chunk of type ${typeof chunk} in a Docker stream`);
}

/** Whole lines of each stream, the last unterminated one included at the end. */
export async function* frameLines(
  frames: AsyncIterable<Frame>,
): AsyncIterable<{ stream: 'stdout' | 'stderr'; line: string }> {
  const partial = { stdout: '', stderr: '' };
  // A character may be split between two frames.
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  for await (const frame of frames) {
    const text = decoders[frame.stream].write(frame.payload);
    const lines = (partial[frame.stream] + text).split('\n');
    partial[frame.stream] = lines.pop() ?? '';
    for (const line of lines) yield { stream: frame.stream, line };
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    const rest = partial[stream] + decoders[stream].end();
    if (rest !== '') yield { stream, line: rest };
  }
}

/** The JSON values of a newline-delimited JSON stream (build output, events). */
export async function* jsonLines(chunks: AsyncIterable<unknown>): AsyncIterable<unknown> {
  let pending = '';
  for await (const chunk of chunks) {
    const lines = (pending + toBuffer(chunk).toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() !== '') yield JSON.parse(line) as unknown;
    }
  }
  if (pending.trim() !== '') yield JSON.parse(pending) as unknown;
}

/** A property of an unknown JSON value, when it is an object. */
export function field(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as Record<string, unknown>)[key];
}

export function stringField(value: unknown, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === 'string' ? found : undefined;
}

/** dockerode types its streams loosely; they are Node streams (HTTP responses, sockets). */
export function asReadable(stream: unknown): Readable {
  if (stream instanceof Readable) return stream;
  throw new TypeError('the Docker client returned something that is not a stream');
}
