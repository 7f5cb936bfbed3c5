import { randomBytes } from 'node:crypto';

import type { ExitStatus, InstanceHandle, Mount } from '../runtime/index.js';

import { aborted, delay } from './delay.js';
import { JobCleanupError } from './errors.js';
import type { ExitWatch } from './exits.js';
import type { JobAttempt, RunJobOptions } from './types.js';

type End =
  | { readonly kind: 'exit'; readonly status: ExitStatus }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'cancel' };

const NEVER = new Promise<never>(() => undefined);

/**
 * One attempt: a new instance, run until it exits, reaches the time limit or
 * is cancelled, then stopped and removed with what was mounted for it. An
 * instance that cannot start (or whose mounts cannot be made) is a failed
 * attempt with `error`. Rejects only when cleaning up fails.
 */
export async function runAttempt(
  options: RunJobOptions,
  watch: ExitWatch,
  number: number,
): Promise<JobAttempt> {
  const { runtime, spec } = options;
  const id = `${options.name ?? spec.labels.service}-${randomBytes(4).toString('hex')}`;
  const graceMs = options.graceMs ?? 10_000;
  const startedAt = new Date().toISOString();
  const base = { number, instance: id, timedOut: false, cancelled: false };

  watch.expect(id);
  let handle: InstanceHandle;
  try {
    const mounts: Mount[] = [...(spec.mounts ?? []), ...((await options.mounts?.(id)) ?? [])];
    handle = await runtime.start({
      id,
      labels: { ...spec.labels, instance: id },
      artifact: spec.artifact,
      ...(spec.command !== undefined ? { command: spec.command } : {}),
      env: spec.env ?? {},
      port: spec.port ?? 0,
      ...(spec.limits !== undefined ? { limits: spec.limits } : {}),
      ...(mounts.length > 0 ? { mounts } : {}),
    });
  } catch (error) {
    watch.forget(id);
    await cleanUp(options, id, undefined, graceMs, error);
    const finishedAt = new Date().toISOString();
    return {
      ...base,
      exitCode: null,
      signal: null,
      startedAt,
      finishedAt,
      error: messageOf(error),
    };
  }

  const local = new AbortController();
  let end: End;
  try {
    options.onAttempt?.({ type: 'started', number, instance: id, handle });
    end = await Promise.race<End>([
      watch
        .exited(id, local.signal)
        .then((status) => (status === undefined ? NEVER : { kind: 'exit', status })),
      options.timeoutMs === undefined
        ? NEVER
        : delay(options.timeoutMs, local.signal).then((ok) => (ok ? { kind: 'timeout' } : NEVER)),
      aborted(options.signal, local.signal).then((ok) => (ok ? { kind: 'cancel' } : NEVER)),
    ]);
  } catch (error) {
    local.abort();
    await cleanUp(options, id, handle, graceMs, error);
    throw error;
  }
  local.abort();
  // Stopping an exited instance removes what is left of it; stopping a
  // running one is the time limit or the cancellation, and says how it ended.
  const stopped = await cleanUp(options, id, handle, graceMs, undefined);
  const status = end.kind === 'exit' ? end.status : stopped;
  return {
    ...base,
    exitCode: status?.exitCode ?? null,
    signal: status?.signal ?? null,
    startedAt: handle.startedAt,
    finishedAt: new Date().toISOString(),
    timedOut: end.kind === 'timeout',
    cancelled: end.kind === 'cancel',
    ...(status?.oomKilled ? { oomKilled: true } : {}),
    ...(status?.note !== undefined ? { note: status.note } : {}),
  };
}

/**
 * Stops and removes the instance (when it started), then what was mounted
 * for it. `failure` is the error that brought us here, if any: a cleanup
 * that fails too throws both, so neither is lost.
 */
async function cleanUp(
  options: RunJobOptions,
  id: string,
  handle: InstanceHandle | undefined,
  graceMs: number,
  failure: unknown,
): Promise<ExitStatus | undefined> {
  let status: ExitStatus | undefined;
  try {
    if (handle !== undefined) status = await options.runtime.stop(handle, { graceMs });
    await options.unmount?.(id);
  } catch (error) {
    throw new JobCleanupError(id, {
      cause: failure === undefined ? error : new AggregateError([failure, error]),
    });
  }
  return status;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
