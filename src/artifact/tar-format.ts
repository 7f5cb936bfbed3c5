/**
 * The byte layout of canonical archives: POSIX ustar headers, with a pax
 * extended header only when a field does not fit. Written here rather than
 * with node-tar's Pack because these bytes are content addresses: a change in
 * a dependency's header layout must never change every artifact revision.
 */

export const BLOCK_SIZE = 512;

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK_SIZE);

/** The largest size the 11 octal digits of a ustar size field hold (8 GiB - 1). */
const MAX_USTAR_SIZE = 0o77777777777;

const NAME_LENGTH = 100;

/** A fixed name for pax headers: deterministic, and harmless to readers that predate pax. */
const PAX_HEADER_NAME = Buffer.from('././@PaxHeader');

const TYPE_FLAGS = { file: '0', dir: '5', symlink: '2', pax: 'x' } as const;

export interface TarEntryFields {
  /** Relative POSIX path, without a trailing slash. */
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode: number;
  readonly size: number;
  readonly linkpath?: string;
}

/** Zero bytes that complete a body of `size` bytes to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK_SIZE;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK_SIZE - rest);
}

/** The header block(s) of one entry; everything but path, type, mode, size and link is zero. */
export function encodeEntryHeader(fields: TarEntryFields): Buffer {
  const name = Buffer.from(fields.type === 'dir' ? `${fields.path}/` : fields.path, 'utf8');
  const link = Buffer.from(fields.linkpath ?? '', 'utf8');
  const records: [string, string][] = [];
  if (name.length > NAME_LENGTH) records.push(['path', name.toString('utf8')]);
  if (link.length > NAME_LENGTH) records.push(['linkpath', link.toString('utf8')]);
  if (fields.size > MAX_USTAR_SIZE) records.push(['size', String(fields.size)]);
  const header = ustarBlock(
    name,
    fields.mode,
    fields.size > MAX_USTAR_SIZE ? 0 : fields.size,
    TYPE_FLAGS[fields.type],
    link,
  );
  if (records.length === 0) return header;
  const body = Buffer.from(records.map(([key, value]) => paxRecord(key, value)).join(''), 'utf8');
  const paxHeader = ustarBlock(
    PAX_HEADER_NAME,
    0o644,
    body.length,
    TYPE_FLAGS.pax,
    Buffer.alloc(0),
  );
  return Buffer.concat([paxHeader, body, padding(body.length), header]);
}

/** `"<length> <key>=<value>\n"`, where the length counts the whole record, itself included. */
function paxRecord(key: string, value: string): string {
  const rest = Buffer.byteLength(` ${key}=${value}\n`, 'utf8');
  let length = rest + 1;
  while (String(length).length + rest !== length) length = String(length).length + rest;
  return `${length} ${key}=${value}\n`;
}

function ustarBlock(name: Buffer, mode: number, size: number, type: string, link: Buffer): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  name.copy(block, 0, 0, NAME_LENGTH);
  octal(block, 100, 8, mode);
  octal(block, 108, 8, 0); // uid
  octal(block, 116, 8, 0); // gid
  octal(block, 124, 12, size);
  octal(block, 136, 12, 0); // mtime
  block.write(type, 156, 'latin1');
  link.copy(block, 157, 0, NAME_LENGTH);
  block.write('ustar\u000000', 257, 'latin1');
  // uname and gname stay empty: owners are not content.
  octal(block, 329, 8, 0); // devmajor
  octal(block, 337, 8, 0); // devminor
  // The checksum is computed with its own field read as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

/** A zero-padded octal number ending with NUL, as ustar writes numeric fields. */
function octal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, 'latin1');
}
