import { afterEach, beforeEach, describe } from 'vitest';

import { compactionCases } from './contract/compaction.case.js';
import { durabilityCases } from './contract/durability.case.js';
import type {
  ContractContext,
  ContractOptions,
  OpenStore,
  StoreFixture,
} from './contract/helpers.case.js';
import { kvCases } from './contract/kv.case.js';
import { leaseCases } from './contract/lease.case.js';
import { modelCases } from './contract/model.case.js';
import { txnCases } from './contract/txn.case.js';
import { watchCases } from './contract/watch.case.js';

export type { ContractOptions, OpenStore, StoreFixture } from './contract/helpers.case.js';

/**
 * The behaviour every Store backend must show (SQLite now, etcd later). Each
 * case gets a fresh, empty store from `open` and cleans it up afterwards, and
 * only relies on revisions relative to the store's own, so a backend may
 * start at any revision.
 */
export function runStoreContract(
  name: string,
  open: OpenStore,
  options: ContractOptions = {},
): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture | undefined;
    beforeEach(async () => {
      fixture = await open();
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });
    const current = (): StoreFixture => {
      if (fixture === undefined) {
        throw new Error('no store outside a test');
      }
      return fixture;
    };
    const ctx: ContractContext = {
      get store() {
        return current().store;
      },
      get fixture() {
        return current();
      },
      open,
      leaseTtlMs: options.leaseTtlMs ?? 300,
      propertyRuns: options.propertyRuns ?? 100,
    };

    kvCases(ctx);
    txnCases(ctx);
    watchCases(ctx);
    compactionCases(ctx);
    leaseCases(ctx);
    durabilityCases(ctx);
    modelCases(ctx);
  });
}
