import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery as CwQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { PermanentError } from '../../core/errors.js';
import type { EpochMs } from '../../core/time.js';
import type { MetricPoint, MetricQuery, MetricSeries, MetricSource, TimeRange } from '../ports.js';
import { expressionRefs } from '../poll-plan.js';
import { awsCall } from './errors.js';
import { RateLimiter } from './rate-limiter.js';

/** GetMetricData hard limits (not adjustable). */
export const MAX_QUERIES_PER_CALL = 500;
export const MAX_DATAPOINTS_PER_CALL = 100_800;

/** Something CloudWatch said about a call that is not an error but loses or withholds data. */
export interface MetricIssue {
  readonly queryId?: string;
  /** PartialData | InternalError | Forbidden | a Messages[].Code | MaxPages */
  readonly code: string;
  readonly message: string;
}

export interface CloudWatchMetricOptions {
  /** GetMetricData calls per second across this source. Default 10 (quota: 50 per account and Region). */
  readonly callsPerSecond?: number;
  /** Safety stop for NextToken paging per call. Default 20. */
  readonly maxPages?: number;
  /**
   * Ask CloudWatch for ANOMALY_DETECTION_BAND(m, stdDevs) alongside every plain metric and return it
   * as `band` on the series (see BandedMetricSeries, bandVerdict). Each band adds two expressions.
   */
  readonly anomalyBand?: { readonly stdDevs: number };
  readonly onIssue?: (issue: MetricIssue) => void;
  /** For tests: the limiter's clock. */
  readonly limiter?: RateLimiter;
}

/** A series with CloudWatch's anomaly band, when the source runs in anomaly-band mode. */
export interface BandedMetricSeries extends MetricSeries {
  readonly band?: { readonly upper: readonly MetricPoint[]; readonly lower: readonly MetricPoint[] };
}

const ID = /^[a-z][a-zA-Z0-9_]{0,254}$/;
const BAND_UPPER = '__adu';
const BAND_LOWER = '__adl';

/**
 * Rounds a range for one call: start down to `startPeriodSec` (every query's period divides it, which
 * CloudWatch answers fastest), end down to `endPeriodSec` (the shortest period: the one in progress is
 * incomplete). Buckets of longer periods that the end cuts are dropped from the results.
 */
export function alignRange(range: TimeRange, startPeriodSec: number, endPeriodSec = startPeriodSec): TimeRange {
  const ps = startPeriodSec * 1000;
  const pe = endPeriodSec * 1000;
  return { start: (Math.floor(range.start / ps) * ps) as EpochMs, end: (Math.floor(range.end / pe) * pe) as EpochMs };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** The period every query of a call can be aligned to: their least common multiple, at most an hour. */
export function alignmentPeriod(queries: readonly MetricQuery[]): number {
  let l = 1;
  for (const q of queries) l = (l * q.periodSec) / gcd(l, q.periodSec);
  return Math.min(l, 3600);
}

/**
 * Splits queries into calls of ≤ `max` queries, keeping every expression in the same call as the
 * queries it references (connected components). Throws PermanentError on invalid or duplicate ids,
 * references to queries not given, or a component larger than one call.
 */
export function chunkQueries(queries: readonly MetricQuery[], max = MAX_QUERIES_PER_CALL, weight: (q: MetricQuery) => number = () => 1): MetricQuery[][] {
  const byId = new Map<string, number>();
  queries.forEach((q, i) => {
    if (!ID.test(q.id)) throw new PermanentError(`metric query id "${q.id}" is invalid: CloudWatch needs a lowercase first letter, then letters, digits or _`);
    if (byId.has(q.id)) throw new PermanentError(`metric query id "${q.id}" is used twice in one request`);
    byId.set(q.id, i);
  });
  const parent = queries.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (const [i, q] of queries.entries()) {
    if (q.expression === undefined) continue;
    for (const ref of expressionRefs(q.expression)) {
      const j = byId.get(ref);
      if (j === undefined) throw new PermanentError(`expression of metric "${q.id}" references "${ref}", which is not among the queries of this request`);
      parent[find(i)] = find(j);
    }
  }
  const groups = new Map<number, MetricQuery[]>();
  for (const [i, q] of queries.entries()) {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(q);
    else groups.set(r, [q]);
  }
  const chunks: MetricQuery[][] = [];
  let current: MetricQuery[] = [];
  let size = 0;
  for (const g of groups.values()) {
    const w = g.reduce((s, q) => s + weight(q), 0);
    if (w > max) throw new PermanentError(`metrics ${g.map((q) => q.id).join(', ')} reference each other and need ${w} queries, more than ${max} per GetMetricData call`);
    if (size + w > max) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(...g);
    size += w;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Maps one policy query to CloudWatch's shape. */
export function toCloudWatchQuery(q: MetricQuery): CwQuery {
  if (q.expression !== undefined) return { Id: q.id, Expression: q.expression, Period: q.periodSec, ReturnData: true, Label: q.id };
  return {
    Id: q.id,
    ReturnData: true,
    Label: q.id,
    MetricStat: {
      Metric: {
        Namespace: q.namespace,
        MetricName: q.metricName,
        Dimensions: Object.entries(q.dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: q.periodSec,
      Stat: q.stat,
      ...(q.unit !== undefined ? { Unit: q.unit as NonNullable<CwQuery['MetricStat']>['Unit'] } : {}),
    },
  };
}

interface Collected {
  readonly points: Map<number, number>;
  status: string | undefined;
  partial: boolean;
}

/** MetricSource over CloudWatch GetMetricData. */
export class CloudWatchMetricSource implements MetricSource {
  private readonly limiter: RateLimiter;
  private readonly maxPages: number;

  constructor(
    private readonly client: CloudWatchClient,
    private readonly options: CloudWatchMetricOptions = {},
  ) {
    this.limiter = options.limiter ?? new RateLimiter(options.callsPerSecond ?? 10);
    this.maxPages = options.maxPages ?? 20;
    const sd = options.anomalyBand?.stdDevs;
    if (sd !== undefined && !(sd > 0 && sd <= 10)) throw new RangeError(`anomalyBand.stdDevs: expected (0, 10], got ${sd}`);
  }

  async fetch(queries: readonly MetricQuery[], range: TimeRange, signal: AbortSignal): Promise<BandedMetricSeries[]> {
    if (queries.length === 0) return [];
    const band = this.options.anomalyBand;
    const weight = (q: MetricQuery): number => (band && q.expression === undefined ? 3 : 1);
    const chunks = chunkQueries(queries, MAX_QUERIES_PER_CALL, weight);
    const settled = await Promise.allSettled(chunks.map((c) => this.fetchChunk(c, range, signal)));
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed.length > 0) throw failed[0]!.reason;
    return settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
  }

  private async fetchChunk(queries: readonly MetricQuery[], range: TimeRange, signal: AbortSignal): Promise<BandedMetricSeries[]> {
    const aligned = alignRange(range, alignmentPeriod(queries), Math.min(...queries.map((q) => q.periodSec)));
    if (aligned.end <= aligned.start) return queries.map((q) => ({ id: q.id, points: [] }));
    const cw: CwQuery[] = queries.map(toCloudWatchQuery);
    const band = this.options.anomalyBand;
    if (band) {
      const ids = new Set(queries.map((q) => q.id));
      for (const q of queries) {
        if (q.expression !== undefined) continue;
        for (const [suffix, pick] of [[BAND_UPPER, 'FIRST'], [BAND_LOWER, 'LAST']] as const) {
          const id = q.id + suffix;
          if (ids.has(id)) throw new PermanentError(`metric id "${id}" clashes with the anomaly band of "${q.id}"`);
          cw.push({ Id: id, Expression: `${pick}(ANOMALY_DETECTION_BAND(${q.id}, ${band.stdDevs}))`, Period: q.periodSec, ReturnData: true });
        }
      }
    }
    const collected = new Map<string, Collected>();
    let token: string | undefined;
    let pages = 0;
    do {
      await this.limiter.take(signal);
      const out = await awsCall('cloudwatch.GetMetricData', signal, () =>
        this.client.send(
          new GetMetricDataCommand({
            MetricDataQueries: cw,
            StartTime: new Date(aligned.start),
            EndTime: new Date(aligned.end),
            ScanBy: 'TimestampAscending',
            MaxDatapoints: MAX_DATAPOINTS_PER_CALL,
            ...(token !== undefined ? { NextToken: token } : {}),
          }),
          { abortSignal: signal },
        ),
      );
      pages += 1;
      for (const r of out.MetricDataResults ?? []) this.collect(collected, r);
      for (const m of out.Messages ?? []) this.options.onIssue?.({ code: m.Code ?? 'Message', message: m.Value ?? '' });
      token = out.NextToken !== undefined && out.NextToken !== '' ? out.NextToken : undefined;
    } while (token !== undefined && pages < this.maxPages);
    if (token !== undefined) {
      this.options.onIssue?.({ code: 'MaxPages', message: `stopped paging after ${pages} pages; results are partial` });
      for (const c of collected.values()) c.partial = true;
    }
    return queries.map((q) => this.series(q, collected, token !== undefined, aligned.end));
  }

  private collect(into: Map<string, Collected>, r: MetricDataResult): void {
    if (r.Id === undefined) return;
    let c = into.get(r.Id);
    if (!c) into.set(r.Id, (c = { points: new Map(), status: undefined, partial: false }));
    const ts = r.Timestamps ?? [];
    const vs = r.Values ?? [];
    if (ts.length !== vs.length) {
      c.partial = true;
      this.options.onIssue?.({ queryId: r.Id, code: 'Malformed', message: `${ts.length} timestamps but ${vs.length} values` });
    }
    for (let i = 0; i < Math.min(ts.length, vs.length); i++) {
      const v = vs[i]!;
      // A missing datapoint stays missing: CloudWatch omits it, and NaN/Infinity from math are gaps too.
      if (Number.isFinite(v)) c.points.set(ts[i]!.getTime(), v);
    }
    c.status = r.StatusCode;
    if (r.StatusCode === 'InternalError' || r.StatusCode === 'Forbidden') {
      c.partial = true;
      const why = (r.Messages ?? []).map((m) => `${m.Code ?? ''} ${m.Value ?? ''}`.trim()).join('; ');
      this.options.onIssue?.({ queryId: r.Id, code: r.StatusCode, message: why || `CloudWatch returned ${r.StatusCode}` });
    }
  }

  private series(q: MetricQuery, collected: Map<string, Collected>, truncated: boolean, end: EpochMs): BandedMetricSeries {
    const c = collected.get(q.id);
    const complete = (p: MetricPoint): boolean => p.t + q.periodSec * 1000 <= end;
    const points = toPoints(c).filter(complete);
    const partial = truncated || c === undefined || c.partial || c.status === 'PartialData';
    if (c?.status === 'PartialData') this.options.onIssue?.({ queryId: q.id, code: 'PartialData', message: 'CloudWatch returned PartialData with no further page' });
    const base: BandedMetricSeries = partial ? { id: q.id, points, partial: true } : { id: q.id, points };
    const upper = collected.get(q.id + BAND_UPPER);
    const lower = collected.get(q.id + BAND_LOWER);
    if (this.options.anomalyBand && q.expression === undefined) return { ...base, band: { upper: toPoints(upper).filter(complete), lower: toPoints(lower).filter(complete) } };
    return base;
  }
}

function toPoints(c: Collected | undefined): MetricPoint[] {
  if (!c) return [];
  return [...c.points.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t: t as EpochMs, v }));
}

/**
 * The detector for anomaly-band mode: a point is anomalous when it falls outside CloudWatch's band
 * at the same timestamp, in an allowed direction. Points without a band value are not judged.
 */
export function bandVerdict(
  series: BandedMetricSeries,
  direction: 'up' | 'down' | 'both',
): { t: EpochMs; v: number; anomalous: boolean; direction: 'up' | 'down' | null; expected: number }[] {
  const upper = new Map((series.band?.upper ?? []).map((p) => [p.t as number, p.v]));
  const lower = new Map((series.band?.lower ?? []).map((p) => [p.t as number, p.v]));
  return series.points.map((p) => {
    const hi = upper.get(p.t);
    const lo = lower.get(p.t);
    const expected = hi !== undefined && lo !== undefined ? (hi + lo) / 2 : Number.NaN;
    const up = hi !== undefined && p.v > hi && direction !== 'down';
    const down = lo !== undefined && p.v < lo && direction !== 'up';
    return { t: p.t, v: p.v, anomalous: up || down, direction: up ? 'up' : down ? 'down' : null, expected };
  });
}
