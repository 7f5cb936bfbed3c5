export { canonicalArchive, digestContext } from './archive.js';
export type { ContextEntry, ListOptions } from './context.js';
export { listContext } from './context.js';
export type { BuildFailureCode } from './errors.js';
export {
  ArtifactCorruptError,
  ArtifactError,
  ArtifactNotFoundError,
  ArtifactStoreError,
  BuildError,
  ContextChangedError,
  ContextError,
  InvalidBuildRequestError,
  UnpackError,
  UnsafeArchiveError,
} from './errors.js';
export type { BuildRecord, BuildResult, HistoryOptions } from './history.js';
export type { ArtifactInfo, Snapshot, SnapshotRequest } from './snapshot.js';
export type { ArtifactStore, ArtifactStoreOptions } from './store.js';
export { openArtifactStore } from './store.js';
export type { UnpackOptions, UnpackResult } from './unpack.js';
export { unpackArchive } from './unpack.js';
