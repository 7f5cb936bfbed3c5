import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, LeaseNotFoundError } from '../errors.js';

import type { ContractContext } from './helpers.case.js';
import { eventually, keysOf, readBatches, sleep } from './helpers.case.js';

export function leaseCases(ctx: ContractContext): void {
  describe('leases', () => {
    it('deletes its keys in one revision that watchers see when it expires', async () => {
      const { store, leaseTtlMs } = ctx;
      const lease = await store.grantLease(leaseTtlMs);
      expect(lease.ttlMs).toBe(leaseTtlMs);
      await store.put('l/1', 'a', { lease: lease.id });
      await store.put('l/2', 'b', { lease: lease.id });
      const free = await store.put('l/free', 'c');
      expect((await store.get('l/1'))?.lease).toBe(lease.id);
      expect((await store.get('l/free'))?.lease).toBeUndefined();
      const watch = readBatches(store, 'l/', { fromRevision: free.revision + 1 });

      await eventually('the leased keys are gone', async () =>
        (await keysOf(store, 'l/')).every((key) => key === 'l/free'),
      );
      const [expiry] = await watch.take(1);
      expect(expiry?.events).toEqual([
        expect.objectContaining({
          type: 'delete',
          prev: expect.objectContaining({ key: 'l/1', lease: lease.id }),
        }),
        expect.objectContaining({
          type: 'delete',
          prev: expect.objectContaining({ key: 'l/2', lease: lease.id }),
        }),
      ]);
      expect(await store.revision()).toBe(expiry?.revision);
      await watch.stop();
      await expect(lease.keepAlive()).rejects.toBeInstanceOf(LeaseNotFoundError);
      await expect(store.put('l/3', 'x', { lease: lease.id })).rejects.toBeInstanceOf(
        LeaseNotFoundError,
      );
    });

    it('lives on while kept alive', async () => {
      const { store, leaseTtlMs } = ctx;
      const lease = await store.grantLease(leaseTtlMs);
      const granted = Date.now();
      await store.put('k/1', 'v', { lease: lease.id });
      let checkedPastFirstExpiry = false;
      while (Date.now() - granted < 3 * leaseTtlMs) {
        const before = Date.now();
        await lease.keepAlive();
        const kv = await store.get('k/1');
        // Only a read that finished within one TTL of starting the keepAlive
        // proves anything; a stalled machine skips the check instead of failing.
        if (Date.now() - before < leaseTtlMs) {
          expect(kv?.lease).toBe(lease.id);
          checkedPastFirstExpiry ||= Date.now() - granted > leaseTtlMs;
        }
        await sleep(leaseTtlMs / 5);
      }
      expect(checkedPastFirstExpiry).toBe(true);
      await eventually(
        'the key expires once keepAlive stops',
        async () => (await store.get('k/1')) === undefined,
      );
    });

    it('revokes at once, and later revokes do nothing', async () => {
      const { store } = ctx;
      const lease = await store.grantLease(60_000);
      await store.put('r/1', 'a', { lease: lease.id });
      await store.put('r/2', 'b', { lease: lease.id });
      const start = await store.revision();
      await lease.revoke();
      expect(await store.revision()).toBe(start + 1);
      expect(await keysOf(store, 'r/')).toEqual([]);
      await lease.revoke();
      expect(await store.revision()).toBe(start + 1);
      await expect(lease.keepAlive()).rejects.toBeInstanceOf(LeaseNotFoundError);
      await expect(store.put('r/3', 'c', { lease: lease.id })).rejects.toBeInstanceOf(
        LeaseNotFoundError,
      );
    });

    it('refuses an unknown lease and writes nothing', async () => {
      const { store } = ctx;
      const start = await store.revision();
      const error = await store.put('u', 'v', { lease: 'feedc0de' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LeaseNotFoundError);
      expect(error).toMatchObject({ lease: 'feedc0de', code: 'STORE_LEASE_NOT_FOUND' });
      expect(await store.revision()).toBe(start);
    });

    it('lets a put without the lease detach a key from it', async () => {
      const { store } = ctx;
      const lease = await store.grantLease(60_000);
      await store.put('d/k', '1', { lease: lease.id });
      await store.put('d/k', '2');
      expect((await store.get('d/k'))?.lease).toBeUndefined();
      await lease.revoke();
      expect((await store.get('d/k'))?.value).toBe('2');
    });

    it('gives each lease its own id and refuses a TTL that is not a positive integer', async () => {
      const { store } = ctx;
      const a = await store.grantLease(60_000);
      const b = await store.grantLease(60_000);
      expect(a.id).not.toBe(b.id);
      for (const ttl of [0, -5, 1.5, Number.NaN]) {
        await expect(store.grantLease(ttl), String(ttl)).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
      }
    });
  });
}
