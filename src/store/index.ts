export {
  CompactedError,
  FutureRevisionError,
  InvalidArgumentError,
  LeaseNotFoundError,
  StoreBackendError,
  StoreClosedError,
  StoreError,
} from './errors.js';
export { compareKeys } from './keys.js';
export type { SqliteStore, SqliteStoreOptions } from './sqlite/sqlite-store.js';
export { openDefaultStore, openSqliteStore } from './sqlite/sqlite-store.js';
export type {
  Compare,
  CompareTarget,
  DeleteResult,
  KeyValue,
  Lease,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  Store,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  WatchBatch,
  WatchEvent,
  WatchOptions,
} from './store.js';
