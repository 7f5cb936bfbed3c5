import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { Store } from '../store/index.js';
import { openSqliteStore } from '../store/index.js';

import { PortsExhaustedError } from './errors.js';
import { PortAllocator } from './ports.js';

const stores: Store[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function twoStoresOnOneFile(): Promise<[Store, Store]> {
  const dir = await mkdtemp(join(tmpdir(), 'drover-ports-'));
  dirs.push(dir);
  const a = openSqliteStore({ path: join(dir, 'state.db') });
  const b = openSqliteStore({ path: join(dir, 'state.db') });
  stores.push(a, b);
  return [a, b];
}

describe('port allocation', () => {
  it('never hands out the same port twice, even to two Drover processes on one home', async () => {
    const [a, b] = await twoStoresOnOneFile();
    const range = { min: 24100, max: 24139 };
    const first = new PortAllocator(a, range);
    const second = new PortAllocator(b, range);
    const ports = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? first : second).allocate(`i${i}`)),
    );
    expect(new Set(ports).size).toBe(40);
    await expect(first.allocate('one-too-many')).rejects.toBeInstanceOf(PortsExhaustedError);
    await first.release(ports[0] as number, 'i0');
    expect(await second.allocate('again')).toBe(ports[0]);
  });

  it('skips a port another program listens on', async () => {
    const [a] = await twoStoresOnOneFile();
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(24150, '127.0.0.1', resolve));
    try {
      const allocator = new PortAllocator(a, { min: 24150, max: 24152 });
      expect(await allocator.allocate('x')).toBe(24151);
      expect((await allocator.claimed()).get(24150)).toBeUndefined();
    } finally {
      busy.close();
    }
  });

  it('release by owner does not free a port someone else holds now', async () => {
    const [a] = await twoStoresOnOneFile();
    const allocator = new PortAllocator(a, { min: 24160, max: 24160 });
    const port = await allocator.allocate('owner-1');
    await allocator.release(port, 'someone-else');
    expect((await allocator.claimed()).get(port)).toBe('owner-1');
  });
});
