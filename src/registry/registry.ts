import type { Store, WatchEvent } from '../store/index.js';

import type {
  Endpoint,
  EndpointKey,
  RegistryChange,
  RegistrySnapshot,
  RegistryUpdate,
  Route,
  RouteKey,
} from './types.js';

const ENDPOINTS = '/services/';
const ROUTES = '/routes/';

/** `/services/<stack>/<service>/<instance>` */
export function endpointKey(k: EndpointKey): string {
  return `${ENDPOINTS}${k.stack}/${k.service}/${k.instance}`;
}

/** `/routes/<stack>/<name>` */
export function routeKey(k: RouteKey): string {
  return `${ROUTES}${k.stack}/${k.name}`;
}

function parseEndpointKey(key: string): EndpointKey | undefined {
  const [stack, service, instance] = key.slice(ENDPOINTS.length).split('/');
  return stack && service && instance ? { stack, service, instance } : undefined;
}

function parseRouteKey(key: string): RouteKey | undefined {
  const [stack, name] = key.slice(ROUTES.length).split('/');
  return stack && name ? { stack, name } : undefined;
}

export interface RegisterOptions {
  /** Ties the endpoint to a lease: it disappears when the lease expires. */
  readonly lease?: string;
}

/**
 * Endpoints and routes on the store. Writers are the engine (and the
 * reconciler); readers take a snapshot and then follow changes from its
 * revision, so no change between the two is missed or seen twice.
 */
export class Registry {
  constructor(private readonly store: Store) {}

  async register(endpoint: Endpoint, options: RegisterOptions = {}): Promise<number> {
    const { revision } = await this.store.put(
      endpointKey(endpoint),
      JSON.stringify(endpoint),
      options,
    );
    return revision;
  }

  /** Changes some fields of an endpoint (weight, health, draining) if it is still there. */
  async update(
    key: EndpointKey,
    change: Partial<Pick<Endpoint, 'weight' | 'healthy' | 'draining' | 'color'>>,
  ): Promise<boolean> {
    const current = await this.store.get(endpointKey(key));
    if (current === undefined) return false;
    const next = { ...(JSON.parse(current.value) as Endpoint), ...change };
    const result = await this.store.txn({
      compare: [{ key: current.key, target: 'modRevision', op: '=', value: current.modRevision }],
      success: [
        {
          type: 'put',
          key: current.key,
          value: JSON.stringify(next),
          ...(current.lease ? { lease: current.lease } : {}),
        },
      ],
    });
    return result.succeeded || this.update(key, change);
  }

  /**
   * Several endpoint changes in one store transaction, so readers (the proxy)
   * see them together: how blue-green switches all traffic at once.
   * Returns the store revision of the change.
   */
  async batch(changes: {
    readonly put?: readonly Endpoint[];
    readonly update?: readonly {
      key: EndpointKey;
      change: Partial<Pick<Endpoint, 'weight' | 'healthy' | 'draining' | 'color'>>;
    }[];
    readonly remove?: readonly EndpointKey[];
  }): Promise<number> {
    const updates = await Promise.all(
      (changes.update ?? []).map(async ({ key, change }) => {
        const current = await this.store.get(endpointKey(key));
        return current === undefined
          ? undefined
          : { current, next: { ...(JSON.parse(current.value) as Endpoint), ...change } };
      }),
    );
    const present = updates.filter((u): u is NonNullable<typeof u> => u !== undefined);
    const result = await this.store.txn({
      compare: present.map(({ current }) => ({
        key: current.key,
        target: 'modRevision' as const,
        op: '=' as const,
        value: current.modRevision,
      })),
      success: [
        ...(changes.put ?? []).map((e) => ({
          type: 'put' as const,
          key: endpointKey(e),
          value: JSON.stringify(e),
        })),
        ...present.map(({ current, next }) => ({
          type: 'put' as const,
          key: current.key,
          value: JSON.stringify(next),
          ...(current.lease ? { lease: current.lease } : {}),
        })),
        ...(changes.remove ?? []).map((k) => ({ type: 'delete' as const, key: endpointKey(k) })),
      ],
    });
    // Someone changed an endpoint meanwhile: read again and retry.
    return result.succeeded ? result.revision : this.batch(changes);
  }

  async deregister(key: EndpointKey): Promise<void> {
    await this.store.delete(endpointKey(key));
  }

  async putRoute(route: Route): Promise<void> {
    await this.store.put(routeKey(route), JSON.stringify(route));
  }

  async deleteRoute(key: RouteKey): Promise<void> {
    await this.store.delete(routeKey(key));
  }

  /** Everything now, with the revision it was read at. */
  async snapshot(stack?: string): Promise<RegistrySnapshot> {
    const suffix = stack === undefined ? '' : `${stack}/`;
    const endpoints = await this.store.range(ENDPOINTS + suffix);
    const routes = await this.store.range(ROUTES + suffix, { revision: endpoints.revision });
    return {
      revision: endpoints.revision,
      endpoints: endpoints.kvs.map((kv) => JSON.parse(kv.value) as Endpoint),
      routes: routes.kvs.map((kv) => JSON.parse(kv.value) as Route),
    };
  }

  async endpoints(stack: string, service?: string): Promise<Endpoint[]> {
    const { kvs } = await this.store.range(
      `${ENDPOINTS}${stack}/${service === undefined ? '' : `${service}/`}`,
    );
    return kvs.map((kv) => JSON.parse(kv.value) as Endpoint);
  }

  /**
   * Changes after `fromRevision` (exclusive), as one update per store
   * revision, in order. Endpoints and routes are separate prefixes, so the
   * two watches are merged by revision.
   */
  async *watch(options: {
    fromRevision: number;
    stack?: string;
    signal?: AbortSignal;
  }): AsyncIterable<RegistryUpdate> {
    const suffix = options.stack === undefined ? '' : `${options.stack}/`;
    // One watch over '/' keeps a single ordered stream; other keys are filtered out.
    const watch = this.store.watch('/', {
      fromRevision: options.fromRevision + 1,
      signal: options.signal,
    });
    for await (const batch of watch) {
      const changes = batch.events
        .map((e) => toChange(e, suffix))
        .filter((c): c is RegistryChange => c !== undefined);
      if (changes.length > 0) yield { revision: batch.revision, changes };
    }
  }
}

function toChange(event: WatchEvent, suffix: string): RegistryChange | undefined {
  const key = event.kv.key;
  if (key.startsWith(ENDPOINTS + suffix)) {
    if (event.type === 'put')
      return { kind: 'endpoint', type: 'put', endpoint: JSON.parse(event.kv.value) as Endpoint };
    const parsed = parseEndpointKey(key);
    return parsed && { kind: 'endpoint', type: 'delete', key: parsed };
  }
  if (key.startsWith(ROUTES + suffix)) {
    if (event.type === 'put')
      return { kind: 'route', type: 'put', route: JSON.parse(event.kv.value) as Route };
    const parsed = parseRouteKey(key);
    return parsed && { kind: 'route', type: 'delete', key: parsed };
  }
  return undefined;
}

/** Applies updates to a snapshot (pure): how watchers keep their own picture current. */
export function applyUpdate(snapshot: RegistrySnapshot, update: RegistryUpdate): RegistrySnapshot {
  const endpoints = new Map(snapshot.endpoints.map((e) => [endpointKey(e), e]));
  const routes = new Map(snapshot.routes.map((r) => [routeKey(r), r]));
  for (const change of update.changes) {
    if (change.kind === 'endpoint') {
      if (change.type === 'put') endpoints.set(endpointKey(change.endpoint), change.endpoint);
      else endpoints.delete(endpointKey(change.key));
    } else if (change.type === 'put') {
      routes.set(routeKey(change.route), change.route);
    } else {
      routes.delete(routeKey(change.key));
    }
  }
  return {
    revision: update.revision,
    endpoints: [...endpoints.values()],
    routes: [...routes.values()],
  };
}

/**
 * A snapshot, then every later picture as it changes: what the proxy and
 * config templates consume. Resumes from `fromRevision` when given.
 */
export async function* follow(
  registry: Registry,
  options: { stack?: string; signal?: AbortSignal } = {},
): AsyncIterable<RegistrySnapshot> {
  let current = await registry.snapshot(options.stack);
  yield current;
  for await (const update of registry.watch({
    fromRevision: current.revision,
    stack: options.stack,
    signal: options.signal,
  })) {
    current = applyUpdate(current, update);
    yield current;
  }
}
