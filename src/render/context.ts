import type { Endpoint, RegistrySnapshot, Route } from '../registry/index.js';

/**
 * What a config template sees. Everything is sorted and derived from the
 * registry alone (no clock, no counters), so the same registry picture always
 * renders the same text and an unrelated change renders nothing new.
 */
export interface RenderContext {
  readonly stack: string;
  /** The template's service (qualified name), when it names one. */
  readonly service?: string;
  /**
   * Endpoints that should get traffic: healthy, not draining, weight > 0; of
   * the template's service, or of the whole stack without one. Sorted by
   * (service, instance).
   */
  readonly endpoints: readonly Endpoint[];
  /** Every endpoint of the same scope, serving or not, in the same order. */
  readonly all: readonly Endpoint[];
  /**
   * Every service of the stack that has an endpoint or a route → its serving
   * endpoints (possibly none), keys in order. Qualified names may contain dots:
   * use `{{#each (lookup services "db.primary")}}` for those.
   */
  readonly services: Readonly<Record<string, readonly Endpoint[]>>;
  /** The stack's routes, sorted by name. */
  readonly routes: readonly Route[];
}

/** Whether the proxy (and so a rendered upstream list) should send new requests to it. */
export function isServing(endpoint: Endpoint): boolean {
  return endpoint.healthy && endpoint.draining !== true && endpoint.weight > 0;
}

/** Builds the template context of one stack (and optionally one service) from a snapshot. */
export function renderContext(
  snapshot: RegistrySnapshot,
  stack: string,
  service?: string,
): RenderContext {
  const stackEndpoints = snapshot.endpoints
    .filter((e) => e.stack === stack)
    .sort(byServiceInstance);
  const routes = snapshot.routes
    .filter((r) => r.stack === stack)
    .sort((a, b) => cmp(a.name, b.name));
  const all =
    service === undefined ? stackEndpoints : stackEndpoints.filter((e) => e.service === service);

  const byService = new Map<string, Endpoint[]>();
  for (const name of [...stackEndpoints.map((e) => e.service), ...routes.map((r) => r.service)]) {
    byService.set(name, []);
  }
  for (const endpoint of stackEndpoints) {
    if (isServing(endpoint)) byService.get(endpoint.service)?.push(endpoint);
  }
  // fromEntries defines own properties, so even a service named __proto__ is plain data.
  const services = Object.fromEntries([...byService].sort(([a], [b]) => cmp(a, b)));

  return {
    stack,
    ...(service === undefined ? {} : { service }),
    endpoints: all.filter(isServing),
    all,
    services,
    routes,
  };
}

function byServiceInstance(a: Endpoint, b: Endpoint): number {
  return cmp(a.service, b.service) || cmp(a.instance, b.instance);
}

/** Code-unit order: unlike localeCompare, the same on every machine and locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
