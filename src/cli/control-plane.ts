import type { Logger } from 'pino';

import type { ApiServer } from '../api/index.js';
import {
  auditEvent,
  createApi,
  ensureAdminToken,
  startApiServer,
  TokenStore,
} from '../api/index.js';
import { Daemon } from '../engine/daemon.js';
import { logEvent, logRequest } from '../observe/index.js';

export interface ControlPlaneOptions {
  readonly home: string;
  readonly proxy: { host: string; port: number };
  readonly api: { host: string; port: number };
  readonly onWarning?: (message: string) => void;
  /** Failures of the API's own (status 500), with their stacks. */
  readonly onError?: (message: string) => void;
  /** The daemon's structured log: start and stop, every event, every API request. */
  readonly log?: Logger;
}

export interface ControlPlane {
  readonly daemon: Daemon;
  readonly api: ApiServer;
  close(): Promise<void>;
}

/** `host:port` → parts; a bare port means loopback. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || !(port >= 0 && port <= 65535)) throw new Error(`'${value}' is not host:port`);
  return { host: match[1] ?? '127.0.0.1', port };
}

/**
 * The daemon and its API together, as `drover serve` and `drover up` run them.
 * The admin token is written to $DROVER_HOME (0600) on first start, for the
 * CLI on this machine; nothing can be had over the network without a token.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { log } = options;
  const daemon = await Daemon.start({
    home: options.home,
    proxy: options.proxy,
    ...(log || options.onWarning
      ? {
          onWarning: (message: string) => {
            log?.warn(message);
            options.onWarning?.(message);
          },
        }
      : {}),
    ...(log ? { onEvent: (event) => logEvent(log, event) } : {}),
  });
  try {
    const tokens = new TokenStore(daemon.store);
    await ensureAdminToken(options.home, tokens);
    const app = createApi({
      engine: daemon.engine,
      auth: tokens,
      metrics: () => daemon.metrics.render(),
      log: (entry) => {
        if (log) logRequest(log, entry);
        if (entry.error === undefined) return;
        const detail =
          entry.error instanceof Error
            ? (entry.error.stack ?? entry.error.message)
            : String(entry.error);
        options.onError?.(`${entry.method} ${entry.path} → ${entry.status}: ${detail}`);
      },
      audit: (entry) => void daemon.events.record(auditEvent(entry)),
    });
    const api = await startApiServer(app, options.api);
    log?.info(
      { home: options.home, api: api.address.url, proxy: daemon.proxyUrl },
      `control plane started: API on ${api.address.url}, proxy on ${daemon.proxyUrl}`,
    );
    return {
      daemon,
      api,
      close: async () => {
        await api.close();
        await daemon.close();
        log?.info('control plane stopped; instances keep running');
      },
    };
  } catch (error) {
    await daemon.close();
    throw error;
  }
}
