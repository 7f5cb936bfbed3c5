import { createHash } from 'node:crypto';

import type { ReadEntry } from 'tar';
import { Parser } from 'tar';

import { ArtifactError, UnpackError } from './errors.js';

/**
 * One entry of an archive. `ignored` marks entries node-tar parses but does not
 * hand out as files (sparse files, ACLs, tape headers, unknown types, oversized
 * pax headers): the caller refuses those rather than silently skipping them.
 */
export interface TarItem {
  readonly entry: ReadEntry;
  readonly ignored: boolean;
}

export interface TarReading {
  /** Entries in archive order; consume (or resume) each body before asking for the next. */
  readonly items: AsyncIterable<TarItem>;
  /** sha256 of every byte read from the source, once `items` is exhausted. */
  digest(): string;
}

/** How many parsed entries may wait for the consumer before reading pauses. */
const MAX_WAITING = 256;

/**
 * Reads a tar stream with node-tar's parser, pulled one entry at a time so
 * that slow file system work applies back-pressure instead of queueing the
 * whole archive in memory. Every parser warning is fatal (a damaged archive is
 * not half extracted), and an archive must end with its end-of-archive blocks:
 * one cut at an entry boundary is refused rather than taken for complete.
 */
export function readTar(source: AsyncIterable<Buffer | string>): TarReading {
  const hash = createHash('sha256');
  let finalDigest: string | undefined;
  return {
    items: items(source, hash),
    digest: () => (finalDigest ??= hash.digest('hex')),
  };
}

async function* items(
  source: AsyncIterable<Buffer | string>,
  hash: ReturnType<typeof createHash>,
): AsyncGenerator<TarItem> {
  const parser = new Parser();
  const waiting: TarItem[] = [];
  let failure: Error | undefined;
  let ended = false;
  let sawEnd = false;
  let entries = 0;
  let wakeConsumer: (() => void) | undefined;
  let wakePump: (() => void) | undefined;
  let stopped = false;
  const wake = (): void => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  const fail = (error: Error): void => {
    failure ??= error;
    wake();
    wakePump?.();
  };

  parser.on('entry', (entry: ReadEntry) => {
    entries += 1;
    waiting.push({ entry, ignored: false });
    wake();
  });
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    entries += 1;
    waiting.push({ entry, ignored: true });
    wake();
  });
  parser.on('eof', () => {
    sawEnd = true;
  });
  parser.on('warn', (code: string, message: string) => {
    // node-tar calls an archive with no entries unrecognised; a canonical
    // archive of an empty directory is exactly that, and valid.
    if (code === 'TAR_BAD_ARCHIVE' && sawEnd && entries === 0) return;
    fail(new UnpackError(`damaged archive: ${message} (${code})`));
  });
  parser.on('error', (error: Error) =>
    fail(new UnpackError(`damaged archive: ${error.message}`, { cause: error })),
  );
  parser.on('end', () => {
    ended = true;
    wake();
  });

  // Resolves once the parser takes more input (after 'drain' when it said no)
  // and few enough entries wait for the consumer, or once reading stops.
  const room = (drained: boolean): Promise<void> =>
    new Promise((resolve) => {
      const onDrain = (): void => {
        drained = true;
        check();
      };
      const check = (): void => {
        if (!stopped && failure === undefined && (!drained || waiting.length >= MAX_WAITING)) {
          return;
        }
        parser.off('drain', onDrain);
        wakePump = undefined;
        resolve();
      };
      if (!drained) parser.on('drain', onDrain);
      wakePump = check;
      check();
    });

  const pump = async (): Promise<void> => {
    for await (const chunk of source) {
      if (stopped || failure !== undefined) return;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      hash.update(bytes);
      const more = parser.write(bytes);
      if (!more || waiting.length >= MAX_WAITING) await room(more);
    }
    if (!stopped && failure === undefined) parser.end();
  };
  const pumping = pump().catch((error: unknown) =>
    fail(
      error instanceof ArtifactError
        ? error
        : new UnpackError('cannot read the archive', { cause: error }),
    ),
  );

  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const item = waiting.shift();
      if (item !== undefined) {
        wakePump?.();
        yield item;
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => (wakeConsumer = resolve));
    }
    await pumping;
    if (failure !== undefined) throw failure;
    if (!sawEnd) throw new UnpackError('truncated archive: no end-of-archive blocks');
  } finally {
    stopped = true;
    wakePump?.();
  }
}
