import type { WriteStream } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

import type Docker from 'dockerode';

import type { BuildRequest, InstanceArtifact } from '../runtime.js';

import { engineMessage, isNotFound } from './client.js';
import { contextArchive } from './context-archive.js';
import { BuildFailedError, InvalidSpecError } from './errors.js';
import { ARTIFACT_LABEL } from './labels.js';
import { asReadable, field, jsonLines, stringField } from './streams.js';

/** Docker's rule for a tag. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** How much of the log a failure message quotes. */
const QUOTED_LINES = 20;

export function artifactTag(id: string): string {
  if (!TAG.test(id)) {
    throw new InvalidSpecError(`artifact id ${JSON.stringify(id)} cannot be a Docker image tag`);
  }
  return `drover-artifact:${id}`;
}

function dockerfileOf(request: BuildRequest): string {
  const dockerfile = posix.normalize(request.dockerfile ?? 'Dockerfile');
  if (isAbsolute(dockerfile) || dockerfile.startsWith('../') || dockerfile === '..') {
    throw new InvalidSpecError(`dockerfile ${request.dockerfile} must be inside the context`);
  }
  return dockerfile;
}

/**
 * Builds images content-addressed by the artifact id: the image is tagged
 * `drover-artifact:<id>`, and an id whose tag exists is never built again.
 * Instances run the image id, never the tag.
 */
export class ImageBuilder {
  private readonly running = new Map<string, Promise<InstanceArtifact>>();

  constructor(
    private readonly docker: Docker,
    private readonly home: string,
    private readonly closed: AbortSignal,
  ) {}

  build(request: BuildRequest): Promise<InstanceArtifact> {
    // Two callers asking for the same artifact at once share one build.
    const running = this.running.get(request.id);
    if (running !== undefined) return running;
    const build = this.findOrBuild(request).finally(() => this.running.delete(request.id));
    this.running.set(request.id, build);
    return build;
  }

  private async findOrBuild(request: BuildRequest): Promise<InstanceArtifact> {
    const tag = artifactTag(request.id);
    const found = await this.imageId(tag);
    if (found !== undefined) return { kind: 'image', id: request.id, image: found };
    await this.run(request, tag);
    const built = await this.imageId(tag);
    if (built === undefined) {
      throw new BuildFailedError(`the engine built ${tag} but does not know it`, '');
    }
    return { kind: 'image', id: request.id, image: built };
  }

  private async imageId(tag: string): Promise<string | undefined> {
    try {
      return (await this.docker.getImage(tag).inspect()).Id;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async run(request: BuildRequest, tag: string): Promise<void> {
    const dockerfile = dockerfileOf(request);
    // A context that cannot be archived is the caller's to fix (ContextError,
    // InvalidSpecError), not a failed build: found before anything is sent.
    const context = await contextArchive(request.context, dockerfile);
    const log = await BuildLog.open(this.home, request.id);
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const signal = AbortSignal.any([
      timeout,
      this.closed,
      ...(request.signal ? [request.signal] : []),
    ]);
    log.write(`# build of ${request.id} for ${request.who}: ${tag} from ${request.context}\n`);

    let failure: string | undefined;
    let cause: unknown;
    try {
      const output = asReadable(
        await this.docker.buildImage(context, {
          t: tag,
          dockerfile,
          rm: true,
          forcerm: true,
          pull: false,
          labels: { [ARTIFACT_LABEL]: request.id },
          abortSignal: signal,
        }),
      );
      failure = await follow(output, log, signal);
    } catch (error) {
      cause = error;
      failure = engineMessage(error);
    } finally {
      context.destroy();
    }
    if (signal.aborted && request.signal?.aborted !== true) {
      failure = timeout.aborted
        ? `timed out after ${request.timeoutMs} ms`
        : 'the runtime was closed during the build';
    }
    if (failure !== undefined) log.write(`ERROR: ${failure}\n`);
    await log.close();
    if (request.signal?.aborted) throw request.signal.reason;
    if (failure !== undefined) {
      throw new BuildFailedError(
        `docker build of artifact ${request.id} failed: ${failure}\n` +
          `last lines of ${log.file}:\n${log.tail().join('\n')}`,
        log.file,
        { cause },
      );
    }
  }
}

/**
 * Copies the engine's build output (JSON lines) to the log; resolves with
 * the build's error, if it reported one. Aborting drops the connection,
 * which makes the engine cancel the build.
 */
async function follow(
  output: Readable,
  log: BuildLog,
  signal: AbortSignal,
): Promise<string | undefined> {
  const abort = (): void => {
    output.destroy();
  };
  signal.addEventListener('abort', abort, { once: true });
  let failure: string | undefined;
  try {
    for await (const message of jsonLines(output)) {
      const text = stringField(message, 'stream');
      if (text !== undefined) log.write(text);
      const error =
        stringField(message, 'error') ?? stringField(field(message, 'errorDetail'), 'message');
      if (error !== undefined) failure = error;
    }
  } finally {
    signal.removeEventListener('abort', abort);
  }
  return failure;
}

/** `$DROVER_HOME/artifacts/logs/<id>-docker-<time>.log`, and its last lines for error messages. */
class BuildLog {
  private readonly last: string[] = [];

  private constructor(
    readonly file: string,
    private readonly out: WriteStream,
  ) {}

  static async open(home: string, id: string): Promise<BuildLog> {
    const dir = join(home, 'artifacts', 'logs');
    await mkdir(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(dir, `${id}-docker-${stamp}.log`);
    return new BuildLog(file, createWriteStream(file, { flags: 'a', mode: 0o640 }));
  }

  write(text: string): void {
    this.out.write(text);
    this.last.push(...text.split('\n').filter((line) => line.trim() !== ''));
    this.last.splice(0, Math.max(0, this.last.length - QUOTED_LINES));
  }

  tail(): readonly string[] {
    return this.last;
  }

  async close(): Promise<void> {
    this.out.end();
    await finished(this.out);
  }
}
