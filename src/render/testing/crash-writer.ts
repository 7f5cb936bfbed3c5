/**
 * A writer that dies mid-write (run with `node --import tsx`):
 *   crash-writer.ts <destination> <bytes>
 * starts writeFileAtomic(destination, <bytes> of 'y') and SIGKILLs itself as
 * soon as its temp file holds part of the text. The write goes out in chunks
 * with the event loop turning between them, which is where the check runs.
 * Exits 2 if the write finished before it could die (the test then fails
 * rather than passing without having crashed anything).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { writeFileAtomic } from '../atomic-write.js';

const [destination, size] = process.argv.slice(2);
if (destination === undefined || size === undefined) {
  throw new Error('usage: crash-writer.ts <destination> <bytes>');
}
const bytes = Number(size);
const dir = dirname(destination);
const prefix = `.${basename(destination)}.`;

let finished = false;
const watch = () => {
  if (finished) return;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const written = statSync(join(dir, name)).size;
    if (written > 0 && written < bytes) process.kill(process.pid, 'SIGKILL');
  }
  setImmediate(watch);
};
setImmediate(watch);
await writeFileAtomic(destination, 'y'.repeat(bytes));
finished = true;
process.stdout.write('the write finished before the crash\n');
process.exit(2);
