import { posix } from 'node:path';

import type Docker from 'dockerode';
import type { ContainerInspectInfo } from 'dockerode';

import type {
  ExitStatus,
  Fingerprint,
  InstanceHandle,
  Mount,
  ObservedInstance,
} from '../runtime.js';

import { isNotFound } from './client.js';
import { InstanceNotFoundError } from './errors.js';
import { exitStatus, LABELS, ownerOf, portOf } from './labels.js';
import { field, stringField } from './streams.js';

/** Where the engine bind-mounts its init (`Init: true`); not a change made by the instance. */
const INIT_PATH = '/sbin/docker-init';
/** A start time in Docker's zero year: the container was created but never started. */
function neverStarted(info: ContainerInspectInfo): boolean {
  return info.State.StartedAt.startsWith('0001-');
}

export function containerName(id: string): string {
  return `drover-${id}`;
}

/** The container of a handle: its id when known, else the name Drover gave it. */
export function containerRef(handle: InstanceHandle): string {
  return handle.container ?? containerName(handle.id);
}

export function handleOf(info: ContainerInspectInfo): InstanceHandle {
  const name = info.Name.replace(/^\//, '');
  const labels = info.Config.Labels ?? {};
  return {
    runtime: 'docker',
    id: name.startsWith('drover-')
      ? name.slice('drover-'.length)
      : (labels[LABELS.instance] ?? name),
    port: portOf(labels),
    container: info.Id,
    // To the millisecond, as every other time Drover records (the engine gives nanoseconds).
    startedAt: new Date(neverStarted(info) ? info.Created : info.State.StartedAt).toISOString(),
  };
}

export function statusOf(info: ContainerInspectInfo): ExitStatus {
  if (neverStarted(info)) {
    return { exitCode: null, signal: null, note: 'the container was never started' };
  }
  return exitStatus(info.State.ExitCode, info.State.OOMKilled);
}

export async function inspectContainer(
  docker: Docker,
  handle: InstanceHandle,
): Promise<ContainerInspectInfo> {
  try {
    return await docker.getContainer(containerRef(handle)).inspect();
  } catch (error) {
    if (isNotFound(error)) throw new InstanceNotFoundError(handle.id, { cause: error });
    throw error;
  }
}

/** Every container of this home carrying Drover's markers, running or not. */
export async function listInstances(
  docker: Docker,
  homeLabel: string,
): Promise<ObservedInstance[]> {
  const found = await docker.listContainers({
    all: true,
    filters: { label: [LABELS.instance, `${LABELS.home}=${homeLabel}`] },
  });
  const infos = await Promise.all(
    found.map(async (summary) => {
      try {
        return await docker.getContainer(summary.Id).inspect();
      } catch (error) {
        // Removed between the listing and now: it is not on the machine any more.
        if (isNotFound(error)) return undefined;
        throw error;
      }
    }),
  );
  const observed: ObservedInstance[] = [];
  for (const info of infos) {
    const labels = ownerOf(info?.Config.Labels);
    if (info === undefined || labels === undefined) continue;
    const running = info.State.Running || info.State.Paused || info.State.Restarting;
    observed.push({
      handle: handleOf(info),
      labels,
      state: running ? 'running' : 'exited',
      ...(running ? {} : { exit: statusOf(info) }),
    });
  }
  return observed;
}

function envRecord(env: readonly string[] | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const entry of env ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) record[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return record;
}

type Change = NonNullable<Fingerprint['changes']>[number];
const KINDS = ['changed', 'added', 'deleted'] as const;

/**
 * `docker diff`, without what the engine itself put there: paths at or under
 * a mount (the mount's own business), and the directories it created to
 * hold mount points and its init (added or "changed" ancestors of them).
 */
export function filterChanges(raw: unknown, mountTargets: readonly string[]): Change[] {
  const changes: Change[] = [];
  if (!Array.isArray(raw)) return changes;
  const points = [...mountTargets, INIT_PATH];
  for (const item of raw) {
    const path = stringField(item, 'Path');
    const kindCode = field(item, 'Kind');
    const kind = typeof kindCode === 'number' ? KINDS[kindCode] : undefined;
    if (path === undefined || kind === undefined) continue;
    const underMount = mountTargets.some((t) => path === t || path.startsWith(`${t}/`));
    const holdsPoint =
      kind !== 'deleted' && points.some((p) => p === path || p.startsWith(`${path}/`));
    if (!underMount && !holdsPoint) changes.push({ path, kind });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** What the container is now: its image id, argv, environment, labels, mounts and changed files. */
export async function fingerprint(docker: Docker, handle: InstanceHandle): Promise<Fingerprint> {
  const info = await inspectContainer(docker, handle);
  const mounts: Mount[] = info.Mounts.filter((m) => m.Type === 'bind').map((m) => ({
    source: m.Source,
    target: m.Destination,
    readOnly: !m.RW,
  }));
  let raw: unknown;
  try {
    raw = await docker.getContainer(info.Id).changes();
  } catch (error) {
    if (isNotFound(error)) throw new InstanceNotFoundError(handle.id, { cause: error });
    throw error;
  }
  return {
    runtime: 'docker',
    image: info.Image,
    command: [info.Path, ...info.Args],
    env: envRecord(info.Config.Env),
    cwd: info.Config.WorkingDir === '' ? '/' : posix.normalize(info.Config.WorkingDir),
    labels: { ...(info.Config.Labels ?? {}) },
    mounts,
    // Every mount counts here, volumes an image declares too: their content is not the image's.
    changes: filterChanges(
      raw,
      info.Mounts.map((m) => m.Destination),
    ),
  };
}
