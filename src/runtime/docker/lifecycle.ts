import { isAbsolute, posix } from 'node:path';

import type Docker from 'dockerode';
import type { ContainerCreateOptions, MountSettings } from 'dockerode';

import type { ExitStatus, InstanceHandle, InstanceSpec, Mount } from '../runtime.js';

import { engineMessage, isNotFound, statusOf as httpStatus } from './client.js';
import { DockerApiError, InvalidSpecError, StartError } from './errors.js';
import { containerLabels, ENV_MARKERS } from './labels.js';
import { saveLogs } from './logs.js';
import { containerName, containerRef, handleOf, statusOf } from './observe.js';

/**
 * Explicit, whatever the engine's default driver: json-file can be read back
 * through the API (logs(), and the copy made at stop), and rotation bounds
 * what a chatty instance can take of the disk.
 */
const LOG_CONFIG = { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } };

function envList(spec: InstanceSpec): string[] {
  const env: Record<string, string> = { ...spec.env };
  for (const name of Object.keys(env)) {
    if (name === '' || name.includes('=')) {
      throw new InvalidSpecError(`invalid environment variable name ${JSON.stringify(name)}`);
    }
  }
  // Drover's own variables win over the spec's: they are how instances are found again.
  env['PORT'] = String(spec.port);
  env[ENV_MARKERS.instance] = spec.labels.instance;
  env[ENV_MARKERS.stack] = spec.labels.stack;
  env[ENV_MARKERS.service] = spec.labels.service;
  env[ENV_MARKERS.revision] = spec.labels.revision;
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

/**
 * Structured mounts rather than `Binds` strings: no path can break a
 * `source:target:ro` syntax, and a missing source is an error instead of
 * an empty root-owned directory the engine would create in its place.
 */
function mountList(mounts: readonly Mount[], workingDir: string): MountSettings[] {
  return mounts.map((mount) => {
    if (!isAbsolute(mount.source)) {
      throw new InvalidSpecError(`mount source ${mount.source} is not an absolute path`);
    }
    const target = posix.isAbsolute(mount.target)
      ? posix.normalize(mount.target)
      : posix.join(workingDir === '' ? '/' : workingDir, mount.target);
    return { Type: 'bind', Source: mount.source, Target: target, ReadOnly: mount.readOnly };
  });
}

/** The image's working directory (where relative mount targets go); also checks it exists. */
async function workingDirOf(docker: Docker, image: string): Promise<string> {
  try {
    return (await docker.getImage(image).inspect()).Config.WorkingDir;
  } catch (error) {
    if (isNotFound(error)) {
      throw new StartError(`image ${image} is not on this engine; build the artifact first`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** Creates and starts the instance's container; resolves once it runs. */
export async function startContainer(
  docker: Docker,
  homeLabel: string,
  spec: InstanceSpec,
): Promise<InstanceHandle> {
  if (spec.artifact.kind !== 'image') {
    throw new InvalidSpecError(
      `the Docker runtime runs images, not ${spec.artifact.kind} artifacts`,
    );
  }
  const image = spec.artifact.image;
  const workingDir = await workingDirOf(docker, image);
  const memory = spec.limits?.memoryBytes;
  const cpus = spec.limits?.cpus;
  const options: ContainerCreateOptions = {
    name: containerName(spec.id),
    // Always the id, never a tag: a tag can move, the instance must not.
    Image: image,
    Env: envList(spec),
    Labels: containerLabels(spec.labels, spec.port, homeLabel),
    // An argv replaces the image's entrypoint too: it is the whole command line.
    ...(spec.command === undefined ? {} : { Entrypoint: [], Cmd: [...spec.command] }),
    HostConfig: {
      NetworkMode: 'host',
      RestartPolicy: { Name: 'no' },
      // The engine's tini as PID 1, so signals reach the command and orphans are
      // reaped; it works FROM scratch too (a static binary the engine bind-mounts).
      Init: true,
      LogConfig: LOG_CONFIG,
      Mounts: mountList(spec.mounts ?? [], workingDir),
      // No swap beyond the limit: going over it is an OOM kill, not a slow death.
      ...(memory === undefined ? {} : { Memory: memory, MemorySwap: memory }),
      ...(cpus === undefined ? {} : { NanoCpus: Math.round(cpus * 1e9) }),
    },
  };
  let container: Docker.Container;
  try {
    container = await docker.createContainer(options);
  } catch (error) {
    throw new StartError(
      `cannot create the container of instance ${spec.id}: ${engineMessage(error)}`,
      { cause: error },
    );
  }
  try {
    await container.start();
    return handleOf(await container.inspect());
  } catch (error) {
    // A container that did not start is no instance: leave nothing behind.
    try {
      await container.remove({ force: true });
    } catch (cleanup) {
      if (!isNotFound(cleanup)) {
        throw new StartError(
          `instance ${spec.id} did not start (${engineMessage(error)}), and its container ` +
            `could not be removed: ${engineMessage(cleanup)}`,
          { cause: cleanup },
        );
      }
    }
    throw new StartError(`cannot start instance ${spec.id}: ${engineMessage(error)}`, {
      cause: error,
    });
  }
}

const GONE: ExitStatus = { exitCode: null, signal: null, note: 'already gone' };

/**
 * Docker's own stop (SIGTERM, SIGKILL after the grace period, in whole
 * seconds), then the exit status, a copy of the output, and the container
 * removed.
 */
export async function stopContainer(
  docker: Docker,
  homeDir: string,
  handle: InstanceHandle,
  graceMs: number,
): Promise<ExitStatus> {
  const container = docker.getContainer(containerRef(handle));
  try {
    await container.stop({ t: Math.ceil(Math.max(0, graceMs) / 1000) });
  } catch (error) {
    if (isNotFound(error)) return GONE;
    // 304: it had stopped already (it exited, or an earlier stop got this far).
    if (httpStatus(error) !== 304) {
      throw new DockerApiError(`cannot stop instance ${handle.id}: ${engineMessage(error)}`, {
        cause: error,
      });
    }
  }
  try {
    await container.wait({ condition: 'not-running' });
    const info = await container.inspect();
    const status = statusOf(info);
    await saveLogs(docker, homeDir, info.Id, handle.id);
    await container.remove({ force: true, v: true });
    return status;
  } catch (error) {
    // Someone else (another stop, `docker rm`) removed it meanwhile.
    if (isNotFound(error)) return GONE;
    throw new DockerApiError(`cannot stop instance ${handle.id}: ${engineMessage(error)}`, {
      cause: error,
    });
  }
}
