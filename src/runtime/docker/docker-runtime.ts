import type Docker from 'dockerode';

import type {
  BuildRequest,
  ExecResult,
  ExitStatus,
  Fingerprint,
  InstanceArtifact,
  InstanceHandle,
  InstanceSpec,
  LogLine,
  LogOptions,
  ObservedInstance,
  Runtime,
  RuntimeEvent,
  RuntimeOptions,
} from '../runtime.js';

import { ImageBuilder } from './build.js';
import { connect, resolveSocket, wrapEngineError } from './client.js';
import { RuntimeClosedError } from './errors.js';
import { containerEvents } from './events.js';
import { execIn } from './exec.js';
import { homeId } from './labels.js';
import { startContainer, stopContainer } from './lifecycle.js';
import { readLogs } from './logs.js';
import { fingerprint, listInstances } from './observe.js';

export interface DockerRuntimeOptions extends RuntimeOptions {
  /** The engine's unix socket; else `DOCKER_HOST` (unix://), else /var/run/docker.sock. */
  readonly socketPath?: string;
}

/**
 * Instances as containers of a local Docker engine, on the host's network,
 * marked with ownership labels (and this home's id) so that a restarted
 * Drover finds them again with `list()`.
 */
class DockerRuntime implements Runtime {
  readonly kind = 'docker';
  private readonly closer = new AbortController();
  private readonly builder: ImageBuilder;

  constructor(
    private readonly docker: Docker,
    /** $DROVER_HOME: build logs and the output of stopped instances go there. */
    private readonly homeDir: string,
    /** This home's `drover.home` label value. */
    private readonly homeLabel: string,
    signal: AbortSignal | undefined,
  ) {
    this.builder = new ImageBuilder(docker, homeDir, this.closer.signal);
    signal?.addEventListener('abort', () => this.closer.abort(), { once: true });
    if (signal?.aborted) this.closer.abort();
  }

  private open(): void {
    if (this.closer.signal.aborted) throw new RuntimeClosedError();
  }

  /** Runs one call to the engine, naming what failed when it does. */
  private async call<T>(doing: string, run: () => Promise<T>): Promise<T> {
    this.open();
    try {
      return await run();
    } catch (error) {
      throw wrapEngineError(doing, error);
    }
  }

  build(request: BuildRequest): Promise<InstanceArtifact> {
    return this.call(`cannot build artifact ${request.id}`, () => this.builder.build(request));
  }

  start(spec: InstanceSpec): Promise<InstanceHandle> {
    return this.call(`cannot start instance ${spec.id}`, () =>
      startContainer(this.docker, this.homeLabel, spec),
    );
  }

  stop(handle: InstanceHandle, options: { readonly graceMs: number }): Promise<ExitStatus> {
    return this.call(`cannot stop instance ${handle.id}`, () =>
      stopContainer(this.docker, this.homeDir, handle, options.graceMs),
    );
  }

  list(): Promise<ObservedInstance[]> {
    return this.call('cannot list instances', () => listInstances(this.docker, this.homeLabel));
  }

  inspect(handle: InstanceHandle): Promise<Fingerprint> {
    return this.call(`cannot inspect instance ${handle.id}`, () =>
      fingerprint(this.docker, handle),
    );
  }

  logs(handle: InstanceHandle, options: LogOptions = {}): AsyncIterable<LogLine> {
    this.open();
    return readLogs(this.docker, this.homeDir, handle, options, this.closer.signal);
  }

  async exec(
    handle: InstanceHandle,
    argv: readonly string[],
    options: { readonly timeoutMs: number },
  ): Promise<ExecResult> {
    return this.call(`cannot exec in instance ${handle.id}`, () =>
      execIn(this.docker, handle, argv, options.timeoutMs),
    );
  }

  events(signal?: AbortSignal): AsyncIterable<RuntimeEvent> {
    this.open();
    const signals = [this.closer.signal, ...(signal ? [signal] : [])];
    return containerEvents(this.docker, this.homeLabel, AbortSignal.any(signals));
  }

  /** Ends every log follow and event stream; instances keep running (they are not Drover's children). */
  async close(): Promise<void> {
    this.closer.abort();
  }
}

/**
 * Connects to the engine (one ping) and returns the Docker runtime; an
 * engine that does not answer is a `RuntimeUnavailableError` naming the socket.
 */
export async function createDockerRuntime(options: DockerRuntimeOptions): Promise<Runtime> {
  const socket = resolveSocket(options.socketPath);
  const docker = await connect(socket);
  return new DockerRuntime(docker, options.home, await homeId(options.home), options.signal);
}
