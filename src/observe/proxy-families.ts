import type { SeriesSnapshot, StatusClass } from '../proxy/index.js';
import { LATENCY_BUCKETS } from '../proxy/index.js';

/** The metric families this file writes; nothing else may register them. */
export const proxyFamilies = [
  'drover_proxy_requests_total',
  'drover_proxy_request_duration_seconds',
] as const;

interface Aggregate {
  readonly route: string;
  readonly service: string;
  readonly revision: string;
  readonly counts: Record<StatusClass, number>;
  readonly buckets: number[];
  sumSeconds: number;
}

/**
 * The proxy's series as Prometheus text, summed over instances: a label per
 * instance would add series on every heal and deploy, forever, while route,
 * service, revision and status class are what alerts and canary dashboards
 * ask for. The proxy keeps its counters itself (a few array writes per
 * request), so they are read at scrape time rather than mirrored into
 * prom-client metrics.
 */
export function proxyExposition(series: readonly SeriesSnapshot[]): string {
  const byRevision = new Map<string, Aggregate>();
  for (const s of series) {
    const key = `${s.labels.route}\u0000${s.labels.service}\u0000${s.labels.revision}`;
    let a = byRevision.get(key);
    if (a === undefined) {
      a = {
        route: s.labels.route,
        service: s.labels.service,
        revision: s.labels.revision,
        counts: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
        buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
        sumSeconds: 0,
      };
      byRevision.set(key, a);
    }
    for (const cls of Object.keys(a.counts) as StatusClass[]) a.counts[cls] += s.counts[cls];
    s.buckets.forEach((n, i) => (a.buckets[i] = (a.buckets[i] ?? 0) + n));
    a.sumSeconds += s.sumSeconds;
  }
  const labels = (a: Aggregate, extra = ''): string =>
    `{route="${esc(a.route)}",service="${esc(a.service)}",revision="${esc(a.revision)}"${extra}}`;
  const [requests, duration] = proxyFamilies;
  const lines = [
    `# HELP ${requests} Requests the proxy passed to an instance, by route, service, revision and status class.`,
    `# TYPE ${requests} counter`,
  ];
  for (const a of byRevision.values())
    for (const [cls, n] of Object.entries(a.counts))
      if (n > 0) lines.push(`${requests}${labels(a, `,status="${cls}"`)} ${n}`);
  lines.push(
    `# HELP ${duration} Time from a request's arrival to the end of its response, by route, service and revision.`,
    `# TYPE ${duration} histogram`,
  );
  for (const a of byRevision.values()) {
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((le, i) => {
      cumulative += a.buckets[i] ?? 0;
      lines.push(`${duration}_bucket${labels(a, `,le="${le}"`)} ${cumulative}`);
    });
    cumulative += a.buckets[LATENCY_BUCKETS.length] ?? 0;
    lines.push(`${duration}_bucket${labels(a, ',le="+Inf"')} ${cumulative}`);
    lines.push(`${duration}_sum${labels(a)} ${a.sumSeconds}`);
    lines.push(`${duration}_count${labels(a)} ${cumulative}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Label values escape backslash, double quote and newline (exposition format 0.0.4). */
function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
