/**
 * The registry's vocabulary: where the live instances of each service answer
 * (endpoints) and which requests go to which service (routes). Both live in
 * the store, so every reader (the proxy, config templates, the dashboard)
 * sees the same ordered history and can resume from a store revision.
 */

/** One live instance of a service, as the proxy and config templates see it. */
export interface Endpoint {
  readonly stack: string;
  /** Qualified service name. */
  readonly service: string;
  readonly instance: string;
  readonly address: string;
  readonly port: number;
  readonly revision: string;
  /** blue/green deployments name their sets. */
  readonly color?: string;
  /**
   * Share of the service's traffic relative to its other endpoints (canary
   * steps set these); 0 takes no new requests.
   */
  readonly weight: number;
  readonly healthy: boolean;
  /** Leaving: no new requests, in-flight ones finish. */
  readonly draining?: boolean;
}

export interface Route {
  readonly stack: string;
  /** The route resource's qualified name. */
  readonly name: string;
  /** Exact host, `*.domain`, or absent for any host. */
  readonly host?: string;
  /** Path prefix, starting with '/'. */
  readonly path: string;
  /** Qualified service name in the same stack. */
  readonly service: string;
}

/** The whole picture at one store revision. */
export interface RegistrySnapshot {
  readonly revision: number;
  readonly endpoints: readonly Endpoint[];
  readonly routes: readonly Route[];
}

export type RegistryChange =
  | { readonly kind: 'endpoint'; readonly type: 'put'; readonly endpoint: Endpoint }
  | { readonly kind: 'endpoint'; readonly type: 'delete'; readonly key: EndpointKey }
  | { readonly kind: 'route'; readonly type: 'put'; readonly route: Route }
  | { readonly kind: 'route'; readonly type: 'delete'; readonly key: RouteKey };

export interface EndpointKey {
  readonly stack: string;
  readonly service: string;
  readonly instance: string;
}

export interface RouteKey {
  readonly stack: string;
  readonly name: string;
}

/** Changes that happened at one store revision, in order. */
export interface RegistryUpdate {
  readonly revision: number;
  readonly changes: readonly RegistryChange[];
}
