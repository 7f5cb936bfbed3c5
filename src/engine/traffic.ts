import { setTimeout as sleep } from 'node:timers/promises';

import type { Proxy, WindowStats } from '../proxy/index.js';
import type { EndpointKey } from '../registry/index.js';

/**
 * What the engine needs from the data plane during a deployment: to know
 * when a registry change is in effect, when a leaving instance has no
 * request left, and what a revision's traffic looked like (canary analysis).
 */
export interface TrafficSwitch {
  /** Resolves once the data plane serves from registry revision `revision` or later. */
  applied(revision: number, timeoutMs: number): Promise<void>;
  /** Resolves when none of the instances has a request in flight (or at the timeout). */
  idle(keys: readonly EndpointKey[], timeoutMs: number): Promise<void>;
  recent(stack: string, service: string, revision: string, seconds: number): WindowStats;
}

const key = (k: EndpointKey): string => `${k.stack}/${k.service}/${k.instance}`;

/** The switch over Drover's own proxy, in the same process. */
export function proxySwitch(proxy: Proxy): TrafficSwitch {
  return {
    async applied(revision, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (proxy.appliedRevision < revision && Date.now() < deadline) await sleep(2);
    },
    async idle(keys, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (keys.some((k) => proxy.requestsInFlight(key(k)) > 0) && Date.now() < deadline)
        await sleep(10);
    },
    recent: (stack, service, revision, seconds) =>
      proxy.metrics.recent(`${stack}/${service}`, revision, seconds),
  };
}
