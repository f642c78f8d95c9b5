import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { MetricQuery, MetricSeries, MetricSource, TimeRange } from '../ports.js';
import { CloudWatchMetricSource, type CloudWatchMetricOptions } from './cloudwatch-metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { expressionRefs } from '../poll-plan.js';

/** How wide a band a metric asks for, or null for a plain read. */
export type BandWidthOf = (q: MetricQuery) => number | null;

/**
 * GetMetricData for a mix of metrics: the ones whose detector is CloudWatch's anomaly band are asked
 * for with ANOMALY_DETECTION_BAND at their width (one source per width), the rest plainly — so only
 * band metrics pay for the two extra expressions. All sources share one rate limiter (the 50 TPS quota
 * is per account and Region).
 */
export class BandRoutingMetricSource implements MetricSource {
  private readonly plain: CloudWatchMetricSource;
  private readonly banded = new Map<number, CloudWatchMetricSource>();
  private readonly limiter: RateLimiter;

  constructor(
    private readonly client: CloudWatchClient,
    private readonly widthOf: BandWidthOf,
    private readonly options: CloudWatchMetricOptions = {},
  ) {
    this.limiter = options.limiter ?? new RateLimiter(options.callsPerSecond ?? 10);
    this.plain = new CloudWatchMetricSource(client, { ...options, limiter: this.limiter });
  }

  async fetch(queries: readonly MetricQuery[], range: TimeRange, signal: AbortSignal): Promise<MetricSeries[]> {
    const groups = new Map<number | null, MetricQuery[]>();
    for (const q of queries) {
      const w = q.expression === undefined ? this.widthOf(q) : null;
      const list = groups.get(w) ?? [];
      list.push(q);
      groups.set(w, list);
    }
    // An expression needs the metrics it references in its own call: a band metric it references is also
    // read plainly there, and the banded series wins where both come back.
    const plain = groups.get(null) ?? [];
    const have = new Set(plain.map((q) => q.id));
    for (const e of plain.filter((q) => q.expression !== undefined)) {
      for (const ref of expressionRefs(e.expression ?? '')) {
        const q = queries.find((x) => x.id === ref);
        if (q && !have.has(ref)) {
          plain.push(q);
          have.add(ref);
        }
      }
    }
    if (plain.length > 0) groups.set(null, plain);
    const byId = new Map<string, MetricSeries>();
    for (const [width, qs] of groups) {
      for (const s of await this.sourceFor(width).fetch(qs, range, signal)) if (width !== null || !byId.has(s.id)) byId.set(s.id, s);
    }
    return [...byId.values()];
  }

  private sourceFor(width: number | null): CloudWatchMetricSource {
    if (width === null) return this.plain;
    let s = this.banded.get(width);
    if (!s) {
      s = new CloudWatchMetricSource(this.client, { ...this.options, limiter: this.limiter, anomalyBand: { stdDevs: width } });
      this.banded.set(width, s);
    }
    return s;
  }
}
