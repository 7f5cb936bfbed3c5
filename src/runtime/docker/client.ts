import Docker from 'dockerode';

import { DroverError } from '../../errors.js';

import { DockerApiError, RuntimeUnavailableError } from './errors.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** How long the engine may take to answer the first ping before Drover gives up on it. */
const PING_TIMEOUT_MS = 5_000;

/**
 * The engine's socket: the option, else `DOCKER_HOST` (unix sockets only:
 * Drover needs the engine on this machine for host networking and exec
 * pids), else Docker's default.
 */
export function resolveSocket(socketPath: string | undefined, env = process.env): string {
  if (socketPath !== undefined && socketPath !== '') return socketPath;
  const host = env['DOCKER_HOST'];
  if (host === undefined || host === '') return DEFAULT_SOCKET;
  if (!host.startsWith('unix://')) {
    throw new RuntimeUnavailableError(
      `DOCKER_HOST=${host} is not a unix socket; the Docker runtime only talks to an engine ` +
        'on this machine (unix:///path/to/docker.sock)',
    );
  }
  return host.slice('unix://'.length);
}

function explain(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such socket';
  if (code === 'ECONNREFUSED') return 'nothing listens on it';
  if (code === 'EACCES') {
    return 'permission denied (add this user to the docker group, or run as root)';
  }
  // The modem destroys a request that got no answer in time: the socket "hangs up".
  if (code === 'ECONNRESET') return `no answer within ${PING_TIMEOUT_MS} ms`;
  return error instanceof Error ? error.message : String(error);
}

/** A client for the engine behind `socketPath`, once it has answered a ping. */
export async function connect(socketPath: string): Promise<Docker> {
  try {
    // A client of its own for the ping: its timeout would cut long streams (logs, events).
    await new Docker({ socketPath, timeout: PING_TIMEOUT_MS }).ping();
  } catch (error) {
    throw new RuntimeUnavailableError(
      `cannot reach the Docker engine at unix://${socketPath}: ${explain(error)}. ` +
        'Start it (e.g. `systemctl start docker`, or `dockerd --bridge=none --iptables=false` ' +
        'on a machine without bridge networking) or point DOCKER_HOST at its socket.',
      { cause: error },
    );
  }
  return new Docker({ socketPath });
}

/** The HTTP status the engine answered with, when `error` is an engine error. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('statusCode' in error)) return undefined;
  return typeof error.statusCode === 'number' ? error.statusCode : undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404;
}

/** The engine's own words for a failure, without dockerode's "(HTTP code …)" prefix. */
export function engineMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/**
 * An engine failure with what Drover was doing; Drover's own errors (a
 * context that cannot be archived, an invalid spec) and aborts pass through
 * as they are.
 */
export function wrapEngineError(doing: string, error: unknown): unknown {
  // The caller's own abort stays the caller's: it is not a failure of the engine.
  if (error instanceof DroverError || (error instanceof Error && error.name === 'AbortError')) {
    return error;
  }
  return new DockerApiError(`${doing}: ${engineMessage(error)}`, { cause: error });
}
