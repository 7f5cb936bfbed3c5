import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Docker from 'dockerode';

import { isNotFound, resolveSocket } from '../docker/client.js';
import { createDockerRuntime } from '../docker/index.js';
import { homeId, LABELS } from '../docker/labels.js';
import { portIsFree } from '../ports.js';

/**
 * Whether the Docker tests can run here. Without an engine they are skipped
 * with the reason, except under CI=true, where a skipped integration test
 * would hide a broken machine: there it throws, and the suite fails.
 */
export async function dockerForTests(socketPath?: string): Promise<boolean> {
  const home = await mkdtemp(join(tmpdir(), 'drover-docker-probe-'));
  try {
    const runtime = await createDockerRuntime({ home, socketPath });
    await runtime.close();
    return true;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env['CI'] === 'true') {
      throw new Error(`CI=true: the Docker tests must run, but ${reason}`, { cause: error });
    }
    console.warn(`Skipping the Docker runtime tests: ${reason}`);
    return false;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

const handedOut = new Set<number>();

/**
 * A port nothing listens on, never the same one twice in a process. The range
 * sits below Linux's ephemeral range (32768–60999), so an outgoing connection
 * of a test running alongside can't take it before the container binds it.
 */
export async function freePort(min = 31000, max = 32699): Promise<number> {
  const span = max - min + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = min + ((start + i) % span);
    if (handedOut.has(port) || !(await portIsFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${min} and ${max}`);
}

/**
 * Removes what Docker tests made: every container of the home (whatever a
 * failed test left running), then the given image tags.
 */
export async function removeDockerLeftovers(home: string, tags: readonly string[]): Promise<void> {
  const docker = new Docker({ socketPath: resolveSocket(undefined) });
  const label = `${LABELS.home}=${await homeId(home)}`;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) {
    await docker.getContainer(c.Id).remove({ force: true, v: true });
  }
  for (const tag of tags) {
    try {
      await docker.getImage(tag).remove({ force: true });
    } catch (error) {
      // A build that failed left no image to remove.
      if (!isNotFound(error)) throw error;
    }
  }
}
