import type { Route } from '../registry/index.js';

/** A route as the proxy matches it. */
export interface ProxyRoute {
  /** `<stack>/<route name>` */
  readonly id: string;
  /** `<stack>/<service>`: the pool requests go to. */
  readonly pool: string;
  readonly host?: string;
  readonly path: string;
}

export function fromRegistryRoute(route: Route): ProxyRoute {
  return {
    id: `${route.stack}/${route.name}`,
    pool: `${route.stack}/${route.service}`,
    ...(route.host === undefined ? {} : { host: route.host.toLowerCase() }),
    path: route.path,
  };
}

/** Whether `path` is under `prefix` on segment boundaries: `/api` covers `/api` and `/api/x`, not `/apix`. */
function under(path: string, prefix: string): boolean {
  if (prefix === '/' || path === prefix) return true;
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return path.startsWith(base);
}

const byPathLength = (a: ProxyRoute, b: ProxyRoute): number => b.path.length - a.path.length;

/**
 * An immutable routing table: exact hosts first, then wildcards
 * (`*.example.com` covers one label: `a.example.com`, not `b.a.example.com`),
 * then routes for any host; within each, the longest matching path prefix.
 */
export class RouteTable {
  private readonly exact = new Map<string, ProxyRoute[]>();
  private readonly wildcard = new Map<string, ProxyRoute[]>();
  private readonly anyHost: ProxyRoute[] = [];

  constructor(routes: readonly ProxyRoute[]) {
    for (const route of routes) {
      if (route.host === undefined) this.anyHost.push(route);
      else if (route.host.startsWith('*.')) push(this.wildcard, route.host.slice(2), route);
      else push(this.exact, route.host, route);
    }
    for (const list of [...this.exact.values(), ...this.wildcard.values(), this.anyHost])
      list.sort(byPathLength);
  }

  match(host: string, path: string): ProxyRoute | undefined {
    const exact = this.exact.get(host)?.find((r) => under(path, r.path));
    if (exact) return exact;
    const dot = host.indexOf('.');
    if (dot > 0) {
      const wild = this.wildcard.get(host.slice(dot + 1))?.find((r) => under(path, r.path));
      if (wild) return wild;
    }
    return this.anyHost.find((r) => under(path, r.path));
  }

  get size(): number {
    let n = this.anyHost.length;
    for (const list of [...this.exact.values(), ...this.wildcard.values()]) n += list.length;
    return n;
  }
}

function push(map: Map<string, ProxyRoute[]>, key: string, route: ProxyRoute): void {
  const list = map.get(key) ?? [];
  list.push(route);
  map.set(key, list);
}
