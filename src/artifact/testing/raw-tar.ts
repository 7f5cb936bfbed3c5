/**
 * Hand-made tar archives for the malicious-archive corpus: every field as the
 * test says, nothing checked or normalised, so that tests can write what no
 * well-behaved tar writer would (absolute paths, `..`, device entries, long
 * names smuggled in pax or GNU headers, bad checksums).
 */

export interface RawEntry {
  /** Written into the 100-byte name field as is (cut at 100 bytes). */
  readonly name: string;
  /** The type flag: '0' file (default), '1' hard link, '2' symlink, '3'/'4' devices, '5' dir, '6' FIFO. */
  readonly type?: string;
  readonly body?: string | Buffer;
  readonly linkname?: string;
  readonly mode?: number;
  /** Records of a pax extended header written before this entry. */
  readonly pax?: Readonly<Record<string, string>>;
  /** A GNU long-name ('L') header written before this entry. */
  readonly longName?: string;
  /** Spoil the header's checksum. */
  readonly badChecksum?: boolean;
}

const BLOCK = 512;

export function rawTar(entries: readonly RawEntry[], options: { end?: boolean } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    if (entry.pax !== undefined) {
      const records = Object.entries(entry.pax)
        .map(([key, value]) => paxRecord(key, value))
        .join('');
      blocks.push(...withBody({ name: 'PaxHeader', type: 'x' }, Buffer.from(records)));
    }
    if (entry.longName !== undefined) {
      blocks.push(
        ...withBody({ name: '././@LongLink', type: 'L' }, Buffer.from(`${entry.longName}\0`)),
      );
    }
    const body =
      typeof entry.body === 'string' ? Buffer.from(entry.body) : (entry.body ?? Buffer.alloc(0));
    blocks.push(...withBody(entry, body));
  }
  if (options.end !== false) blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

function withBody(entry: RawEntry, body: Buffer): Buffer[] {
  const rest = body.length % BLOCK;
  return [header(entry, body.length), body, Buffer.alloc(rest === 0 ? 0 : BLOCK - rest)];
}

function header(entry: RawEntry, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(entry.name, 0, 100, 'utf8');
  block.write(`${(entry.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block.write(entry.type ?? '0', 156, 'latin1');
  block.write(entry.linkname ?? '', 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  if (entry.badChecksum === true) sum += 1;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

function paxRecord(key: string, value: string): string {
  const rest = Buffer.byteLength(` ${key}=${value}\n`);
  let length = rest + 1;
  while (String(length).length + rest !== length) length = String(length).length + rest;
  return `${length} ${key}=${value}\n`;
}
