/**
 * The proxy's own measurements: request counts by status class and latency
 * histograms per route, service, revision and instance. Kept as plain counters
 * on the hot path (one increment, one bucket), read in-process (canary
 * analysis: error ratio and p99 over a recent window) and as Prometheus text.
 */

/** Upper bounds in seconds, as Prometheus buckets. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

export interface SeriesLabels {
  readonly route: string;
  readonly service: string;
  readonly revision: string;
  readonly instance: string;
}

/** One label set's counters. Backends hold a reference, so an observation is a few array writes. */
export class Series {
  readonly counts: Record<StatusClass, number> = {
    '1xx': 0,
    '2xx': 0,
    '3xx': 0,
    '4xx': 0,
    '5xx': 0,
  };
  /** Non-cumulative per-bucket counts, plus +Inf at the end. */
  readonly buckets = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  sumSeconds = 0;

  constructor(
    readonly labels: SeriesLabels,
    /** The recent-traffic window of the series' service and revision. */
    readonly window: Window,
  ) {}
}

function bucketOf(seconds: number): number {
  let i = 0;
  while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
  return i;
}

function classOf(status: number): StatusClass {
  return status >= 500
    ? '5xx'
    : status >= 400
      ? '4xx'
      : status >= 300
        ? '3xx'
        : status >= 200
          ? '2xx'
          : '1xx';
}

/** Per-second slices for a window of recent traffic, per (service, revision). */
export class Window {
  private readonly slices: {
    second: number;
    requests: number;
    errors: number;
    buckets: number[];
  }[] = [];

  add(nowSecond: number, status: number, bucket: number): void {
    let slice = this.slices.at(-1);
    if (slice === undefined || slice.second !== nowSecond) {
      slice = {
        second: nowSecond,
        requests: 0,
        errors: 0,
        buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
      };
      this.slices.push(slice);
      while (this.slices.length > 600) this.slices.shift();
    }
    slice.requests++;
    if (status >= 500) slice.errors++;
    slice.buckets[bucket] = (slice.buckets[bucket] ?? 0) + 1;
  }

  sum(sinceSecond: number): { requests: number; errors: number; buckets: number[] } {
    const out = {
      requests: 0,
      errors: 0,
      buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
    };
    for (const s of this.slices) {
      if (s.second < sinceSecond) continue;
      out.requests += s.requests;
      out.errors += s.errors;
      s.buckets.forEach((n, i) => (out.buckets[i] = (out.buckets[i] ?? 0) + n));
    }
    return out;
  }
}

export interface WindowStats {
  readonly requests: number;
  readonly errors5xx: number;
  readonly errorRate: number;
  /** Upper bound of the bucket holding the 99th percentile, in ms (undefined without requests). */
  readonly p99Ms?: number;
}

/** One series' totals at a point in time. */
export interface SeriesSnapshot {
  readonly labels: SeriesLabels;
  readonly counts: Record<StatusClass, number>;
  readonly requests: number;
  /** Non-cumulative per-bucket counts (bounds: LATENCY_BUCKETS), plus +Inf at the end. */
  readonly buckets: readonly number[];
  readonly sumSeconds: number;
}

export class ProxyMetrics {
  private readonly series = new Map<string, Series>();
  private readonly windows = new Map<string, Window>();

  /** The series for a label set (created once; backends keep the reference). */
  seriesFor(labels: SeriesLabels): Series {
    const key = `${labels.route}\u0000${labels.service}\u0000${labels.revision}\u0000${labels.instance}`;
    let s = this.series.get(key);
    if (s === undefined) {
      const windowKey = `${labels.service}\u0000${labels.revision}`;
      let window = this.windows.get(windowKey);
      if (window === undefined) {
        window = new Window();
        this.windows.set(windowKey, window);
      }
      s = new Series(labels, window);
      this.series.set(key, s);
    }
    return s;
  }

  observe(series: Series, status: number, seconds: number): void {
    const bucket = bucketOf(seconds);
    series.counts[classOf(status)]++;
    series.buckets[bucket] = (series.buckets[bucket] ?? 0) + 1;
    series.sumSeconds += seconds;
    series.window.add(Math.floor(Date.now() / 1000), status, bucket);
  }

  /** What a revision of a service saw in the last `seconds` (for canary analysis). */
  recent(service: string, revision: string, seconds: number): WindowStats {
    const window = this.windows.get(`${service}\u0000${revision}`);
    const sum = window?.sum(Math.floor(Date.now() / 1000) - seconds + 1) ?? {
      requests: 0,
      errors: 0,
      buckets: [],
    };
    if (sum.requests === 0) return { requests: 0, errors5xx: 0, errorRate: 0 };
    const target = Math.ceil(sum.requests * 0.99);
    let seen = 0;
    let p99Ms: number | undefined;
    for (let i = 0; i < sum.buckets.length; i++) {
      seen += sum.buckets[i] ?? 0;
      if (seen >= target) {
        p99Ms = i < LATENCY_BUCKETS.length ? (LATENCY_BUCKETS[i] as number) * 1000 : Infinity;
        break;
      }
    }
    return {
      requests: sum.requests,
      errors5xx: sum.errors,
      errorRate: sum.errors / sum.requests,
      p99Ms,
    };
  }

  /** Totals per series, for tests, the API and the daemon's /metrics. */
  snapshot(): SeriesSnapshot[] {
    return [...this.series.values()].map((s) => ({
      labels: s.labels,
      counts: { ...s.counts },
      requests: Object.values(s.counts).reduce((a, b) => a + b, 0),
      buckets: [...s.buckets],
      sumSeconds: s.sumSeconds,
    }));
  }

  /** Prometheus text exposition (version 0.0.4). */
  prometheus(): string {
    const lines: string[] = [
      '# HELP drover_proxy_requests_total Requests through the proxy by route, service, revision, instance and status class.',
      '# TYPE drover_proxy_requests_total counter',
    ];
    const label = (l: SeriesLabels, extra = ''): string =>
      `{route="${esc(l.route)}",service="${esc(l.service)}",revision="${esc(l.revision)}",instance="${esc(l.instance)}"${extra}}`;
    for (const s of this.series.values()) {
      for (const [cls, n] of Object.entries(s.counts)) {
        if (n > 0)
          lines.push(`drover_proxy_requests_total${label(s.labels, `,code="${cls}"`)} ${n}`);
      }
    }
    lines.push(
      '# HELP drover_proxy_request_duration_seconds Time from the request to the end of the response.',
      '# TYPE drover_proxy_request_duration_seconds histogram',
    );
    for (const s of this.series.values()) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i] ?? 0;
        lines.push(
          `drover_proxy_request_duration_seconds_bucket${label(s.labels, `,le="${le}"`)} ${cumulative}`,
        );
      });
      cumulative += s.buckets[LATENCY_BUCKETS.length] ?? 0;
      lines.push(
        `drover_proxy_request_duration_seconds_bucket${label(s.labels, ',le="+Inf"')} ${cumulative}`,
      );
      lines.push(`drover_proxy_request_duration_seconds_sum${label(s.labels)} ${s.sumSeconds}`);
      lines.push(`drover_proxy_request_duration_seconds_count${label(s.labels)} ${cumulative}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
