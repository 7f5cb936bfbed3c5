import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { canonicalArchive } from './archive.js';
import type { BuildOutcome } from './build.js';
import { describe, runBuild } from './build.js';
import {
  ArtifactStoreError,
  BuildError,
  ContextChangedError,
  ContextError,
  InvalidBuildRequestError,
} from './errors.js';
import { removeAfterFailure, removeTree, tailOfFile, writeHashed } from './fs-util.js';
import { unpackArchive } from './unpack.js';

/**
 * What to snapshot. Structurally the runtime's `BuildRequest` (so a runtime
 * passes its own request as is) plus the digest the plan was made with;
 * defined here so that artifact/ does not depend on runtime/, which uses it.
 */
export interface SnapshotRequest {
  /** The artifact's revision; the same id is never built twice. */
  readonly id: string;
  /** Absolute path of the context directory. */
  readonly context: string;
  /** argv run in a scratch copy of the context; absent: the context is the snapshot. */
  readonly build?: readonly string[];
  /** Images are built by the Docker runtime; a request with one is refused here. */
  readonly dockerfile?: string;
  readonly timeoutMs: number;
  /** Who asked, for the build history. */
  readonly who: string;
  readonly signal?: AbortSignal;
  /** The context digest the plan was made with; a context that changed since is refused. */
  readonly digest?: string;
}

/** A stored snapshot: its read-only tree and the canonical archive it was unpacked from. */
export interface Snapshot {
  readonly id: string;
  /** The unpacked read-only tree, `artifacts/<id>/root`. */
  readonly dir: string;
  /** The canonical archive, `artifacts/<id>/snapshot.tar`. */
  readonly archive: string;
  /** sha256 of the archive. Without a build it is the context's digest. */
  readonly digest: string;
}

export interface ArtifactInfo extends Snapshot {
  /** sha256 of the context's canonical archive. */
  readonly contextDigest: string;
  /** sha256 over the context digest and the build argv. */
  readonly inputs: string;
  readonly build: readonly string[] | null;
  /** Bytes of the archive. */
  readonly size: number;
  readonly entries: number;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** The part of ArtifactInfo written to `meta.json`; paths follow the home, wherever it is. */
type Meta = Omit<ArtifactInfo, 'dir' | 'archive'>;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Where an artifact home keeps things; `logs` and `.tmp` are not artifact ids. */
export class Layout {
  readonly root: string;
  readonly tmp: string;
  readonly logs: string;

  constructor(home: string) {
    this.root = join(home, 'artifacts');
    this.tmp = join(this.root, '.tmp');
    this.logs = join(this.root, 'logs');
  }

  static isId(id: string): boolean {
    return ID_PATTERN.test(id) && id !== 'logs';
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  info(id: string, meta: Meta): ArtifactInfo {
    return {
      ...meta,
      dir: join(this.dir(id), 'root'),
      archive: join(this.dir(id), 'snapshot.tar'),
    };
  }

  /** The stored artifact, or undefined when there is none. */
  async read(id: string): Promise<ArtifactInfo | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.dir(id), 'meta.json'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ArtifactStoreError(`cannot read artifact ${id}`, { cause: error });
    }
    try {
      return this.info(id, JSON.parse(text) as Meta);
    } catch (error) {
      throw new ArtifactStoreError(`artifact ${id} is damaged; remove it`, { cause: error });
    }
  }
}

export function checkRequest(request: SnapshotRequest): void {
  const fail = (why: string): never => {
    throw new InvalidBuildRequestError(`cannot snapshot ${JSON.stringify(request.id)}: ${why}`);
  };
  if (!Layout.isId(request.id)) fail('an artifact id is 1-128 letters, digits, . _ or -');
  if (!request.context.startsWith('/')) fail('the context must be an absolute path');
  if (request.dockerfile !== undefined) fail('images are built by the docker runtime');
  if (request.build !== undefined && request.build.length === 0) fail('the build argv is empty');
  if (!Number.isFinite(request.timeoutMs) || request.timeoutMs <= 0) {
    fail('timeoutMs must be a positive number');
  }
}

export interface ProduceOptions {
  readonly layout: Layout;
  readonly now: () => Date;
  readonly killGraceMs: number;
  readonly signal: AbortSignal;
}

/** What a failed attempt got as far as, for its build record. */
export interface Progress {
  inputs?: string;
  logPath?: string;
}

/**
 * Makes `artifacts/<id>` from a request: the snapshot is assembled in a
 * private directory under `.tmp` and renamed into place only when complete,
 * so `artifacts/<id>` either is a whole artifact or does not exist. Returns
 * the artifact in place, which is another process's when it got there first.
 */
export async function produceSnapshot(
  request: SnapshotRequest,
  options: ProduceOptions,
  progress: Progress,
): Promise<ArtifactInfo> {
  const { layout } = options;
  await mkdir(layout.tmp, { recursive: true });
  const staging = await mkdtemp(join(layout.tmp, `${request.id}-`));
  try {
    const archive = join(staging, 'snapshot.tar');
    const planned = (contextDigest: string): void => {
      if (request.digest !== undefined && request.digest !== contextDigest) {
        throw new ContextChangedError(request.context, request.digest, contextDigest);
      }
      progress.inputs = inputsHash(contextDigest, request.build);
    };
    let contextDigest: string;
    let written: { digest: string; size: number };
    if (request.build === undefined) {
      written = await writeHashed(canonicalArchive(request.context), archive);
      contextDigest = written.digest;
      planned(contextDigest);
    } else {
      // The build gets a copy made from the canonical archive: exactly what
      // the digest covers, ignored files left out, and nothing it can change
      // in the context itself.
      const scratch = join(staging, 'scratch');
      contextDigest = (await unpackArchive(canonicalArchive(request.context), scratch)).digest;
      planned(contextDigest);
      written = await build(request, scratch, archive, options, progress);
      await removeTree(scratch);
    }
    const root = await unpackArchive(archive, join(staging, 'root'), {
      readOnly: true,
      dirMode: 0o555,
      digest: written.digest,
    });
    const meta: Meta = {
      id: request.id,
      digest: written.digest,
      contextDigest,
      inputs: inputsHash(contextDigest, request.build),
      build: request.build ?? null,
      size: written.size,
      entries: root.entries,
      createdAt: options.now().toISOString(),
      createdBy: request.who,
    };
    await writeFile(join(staging, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`, {
      flag: 'wx',
      mode: 0o444,
    });
    return await commit(staging, request.id, layout, meta);
  } catch (error) {
    await removeAfterFailure(staging, error);
    throw error;
  }
}

async function build(
  request: SnapshotRequest,
  scratch: string,
  archive: string,
  options: ProduceOptions,
  progress: Progress,
): Promise<{ digest: string; size: number }> {
  await mkdir(options.layout.logs, { recursive: true });
  const stamp = options.now().toISOString().replace(/[:.]/g, '-');
  const logPath = join(options.layout.logs, `${request.id}-${stamp}.log`);
  progress.logPath = logPath;
  const signal =
    request.signal === undefined
      ? options.signal
      : AbortSignal.any([request.signal, options.signal]);
  const outcome = await runBuild({
    argv: request.build ?? [],
    cwd: scratch,
    logPath,
    timeoutMs: request.timeoutMs,
    killGraceMs: options.killGraceMs,
    signal,
  });
  if (outcome.status !== 'succeeded') throw await buildError(outcome, logPath);
  try {
    // The whole output, whatever the context's ignore files say: they chose
    // what to send to the build, not what the build makes.
    return await writeHashed(canonicalArchive(scratch, { ignoreFiles: false }), archive);
  } catch (error) {
    if (!(error instanceof ContextError)) throw error;
    throw new BuildError(
      'ARTIFACT_BUILD_FAILED',
      `the build's output cannot be archived: ${error.message}`,
      { logPath, logTail: await tailOfFile(logPath) },
      { cause: error },
    );
  }
}

async function buildError(outcome: BuildOutcome, logPath: string): Promise<BuildError> {
  const code =
    outcome.status === 'timeout'
      ? 'ARTIFACT_BUILD_TIMEOUT'
      : outcome.status === 'aborted'
        ? 'ARTIFACT_BUILD_ABORTED'
        : 'ARTIFACT_BUILD_FAILED';
  const details = {
    logPath,
    logTail: await tailOfFile(logPath),
    ...(outcome.status === 'failed' ? { exitCode: outcome.exitCode, signal: outcome.signal } : {}),
  };
  const cause = outcome.status === 'failed' ? outcome.error : undefined;
  return new BuildError(code, describe(outcome), details, cause === undefined ? {} : { cause });
}

async function commit(
  staging: string,
  id: string,
  layout: Layout,
  meta: Meta,
): Promise<ArtifactInfo> {
  try {
    await rename(staging, layout.dir(id));
    return layout.info(id, meta);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') {
      throw new ArtifactStoreError(`cannot store artifact ${id}`, { cause: error });
    }
  }
  // Another process stored the same id first: same inputs, so keep theirs.
  await removeTree(staging);
  const theirs = await layout.read(id);
  if (theirs === undefined) throw new ArtifactStoreError(`artifact ${id} vanished while stored`);
  return theirs;
}

/** The "content address of the inputs": the context digest and the build argv. */
export function inputsHash(contextDigest: string, build: readonly string[] | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify({ context: contextDigest, build: build ?? null }))
    .digest('hex');
}
