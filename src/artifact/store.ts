import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';

import type { Store } from '../store/index.js';

import {
  ArtifactCorruptError,
  ArtifactError,
  ArtifactNotFoundError,
  ArtifactStoreError,
  BuildError,
} from './errors.js';
import { removeTree } from './fs-util.js';
import type { BuildRecord, HistoryOptions } from './history.js';
import { BuildHistory } from './history.js';
import type { ArtifactInfo, Progress, Snapshot, SnapshotRequest } from './snapshot.js';
import { checkRequest, Layout, produceSnapshot } from './snapshot.js';
import { unpackArchive } from './unpack.js';

export interface ArtifactStoreOptions {
  /** $DROVER_HOME; artifacts live in `<home>/artifacts`. */
  readonly home: string;
  /** Where the build history is recorded. */
  readonly store: Store;
  readonly now?: () => Date;
  /** Between SIGTERM and SIGKILL when a build runs out of time (default 5 s). */
  readonly killGraceMs?: number;
}

/** Content-addressed snapshots and the history of their builds. */
export interface ArtifactStore {
  /**
   * The snapshot of `request.id`, built when it is not stored yet. The same id
   * is built at most once: later calls, and calls while it builds (which share
   * that build, and the first caller's signal), get the stored one. Throws
   * BuildError, ContextChangedError, ContextError or InvalidBuildRequestError,
   * leaving nothing under `artifacts/<id>`; ArtifactCorruptError when the
   * stored id was made from another context than `request.digest`.
   */
  ensureSnapshot(request: SnapshotRequest): Promise<Snapshot>;
  /**
   * A fresh, private copy of a snapshot at `dest` (which must not exist) for
   * one instance: real files, never links to the stored ones, read-only
   * (0444, executables 0555) in owner-writable directories. Verified against
   * the snapshot's digest on the way.
   */
  materialize(id: string, dest: string): Promise<string>;
  /** Build records, newest first. */
  history(options?: HistoryOptions): Promise<BuildRecord[]>;
  get(id: string): Promise<ArtifactInfo | undefined>;
  /** Every stored artifact, by id. */
  list(): Promise<ArtifactInfo[]>;
  /** Deletes a stored artifact (its history stays); false when there was none. */
  remove(id: string): Promise<boolean>;
  /** Cancels builds in progress and waits for them; later calls fail. */
  close(): Promise<void>;
}

export function openArtifactStore(options: ArtifactStoreOptions): ArtifactStore {
  return new FileArtifactStore(options);
}

interface Obtained {
  readonly info: ArtifactInfo;
  readonly built: boolean;
}

class FileArtifactStore implements ArtifactStore {
  readonly #layout: Layout;
  readonly #history: BuildHistory;
  readonly #now: () => Date;
  readonly #killGraceMs: number;
  /** Builds in progress by id, so that concurrent requests for one id share one build. */
  readonly #inflight = new Map<string, Promise<Obtained>>();
  readonly #closing = new AbortController();

  constructor(options: ArtifactStoreOptions) {
    this.#layout = new Layout(options.home);
    this.#history = new BuildHistory(options.store);
    this.#now = options.now ?? (() => new Date());
    this.#killGraceMs = options.killGraceMs ?? 5000;
  }

  async ensureSnapshot(request: SnapshotRequest): Promise<Snapshot> {
    this.#checkOpen();
    checkRequest(request);
    const started = this.#now();
    let job = this.#inflight.get(request.id);
    const joined = job !== undefined;
    if (job === undefined) {
      job = this.#obtain(request, started);
      this.#inflight.set(request.id, job);
      const forget = (): boolean => this.#inflight.delete(request.id);
      job.then(forget, forget);
    }
    const { info, built } = await job;
    // The id is the content address of the inputs: a stored artifact made from
    // another context than the one planned means the id is not one; refuse it.
    if (request.digest !== undefined && request.digest !== info.contextDigest) {
      throw new ArtifactCorruptError(request.digest, info.contextDigest);
    }
    if (joined || !built) {
      await this.#history.add({
        id: request.id,
        inputs: info.inputs,
        who: request.who,
        startedAt: started.toISOString(),
        durationMs: this.#now().getTime() - started.getTime(),
        result: 'cached',
      });
    }
    return { id: info.id, dir: info.dir, archive: info.archive, digest: info.digest };
  }

  async #obtain(request: SnapshotRequest, started: Date): Promise<Obtained> {
    const stored = await this.#layout.read(request.id);
    if (stored !== undefined) return { info: stored, built: false };
    const progress: Progress = {};
    const record = (result: BuildRecord['result'], error?: unknown): Promise<void> =>
      this.#history.add({
        id: request.id,
        ...(progress.inputs === undefined ? {} : { inputs: progress.inputs }),
        who: request.who,
        startedAt: started.toISOString(),
        durationMs: this.#now().getTime() - started.getTime(),
        result,
        ...(progress.logPath === undefined ? {} : { logPath: progress.logPath }),
        ...(error === undefined ? {} : { error: describeError(error) }),
      });
    let info: ArtifactInfo;
    try {
      info = await produceSnapshot(
        request,
        {
          layout: this.#layout,
          now: this.#now,
          killGraceMs: this.#killGraceMs,
          signal: this.#closing.signal,
        },
        progress,
      );
    } catch (error) {
      const result =
        error instanceof BuildError && error.code === 'ARTIFACT_BUILD_TIMEOUT'
          ? 'timeout'
          : 'failed';
      await record(result, error).catch((recordError: unknown) => {
        throw new ArtifactStoreError(`${describeError(error)}; and it could not be recorded`, {
          cause: recordError,
        });
      });
      throw error;
    }
    await record('built');
    return { info, built: true };
  }

  async materialize(id: string, dest: string): Promise<string> {
    this.#checkOpen();
    const info = await this.get(id);
    if (info === undefined) throw new ArtifactNotFoundError(id);
    await unpackArchive(info.archive, dest, {
      readOnly: true,
      dirMode: 0o755,
      digest: info.digest,
    });
    return dest;
  }

  history(options: HistoryOptions = {}): Promise<BuildRecord[]> {
    return this.#history.list(options);
  }

  async get(id: string): Promise<ArtifactInfo | undefined> {
    return Layout.isId(id) ? this.#layout.read(id) : undefined;
  }

  async list(): Promise<ArtifactInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.#layout.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ArtifactStoreError(`cannot list ${this.#layout.root}`, { cause: error });
    }
    const found: ArtifactInfo[] = [];
    for (const name of names.filter(Layout.isId).sort()) {
      const info = await this.#layout.read(name);
      if (info !== undefined) found.push(info);
    }
    return found;
  }

  async remove(id: string): Promise<boolean> {
    this.#checkOpen();
    if (!Layout.isId(id)) return false;
    await Promise.allSettled([this.#inflight.get(id)]);
    // Out of sight in one rename, so that nobody finds a half-deleted artifact.
    await mkdir(this.#layout.tmp, { recursive: true });
    const doomed = join(this.#layout.tmp, `removed-${id}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(this.#layout.dir(id), doomed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new ArtifactStoreError(`cannot remove artifact ${id}`, { cause: error });
    }
    await removeTree(doomed);
    return true;
  }

  async close(): Promise<void> {
    this.#closing.abort(new ArtifactStoreError('the artifact store was closed'));
    await Promise.allSettled(this.#inflight.values());
  }

  #checkOpen(): void {
    if (this.#closing.signal.aborted) throw new ArtifactStoreError('the artifact store is closed');
  }
}

function describeError(error: unknown): string {
  if (error instanceof ArtifactError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
