/**
 * npm run bench:aws [-- --days 1] [--episodes 8]
 *
 * GetMetricData calls and cost of the adaptive polling plan. Replays `--days` of one-minute cycles for
 * 1,000 and 10,000 watched metrics (copies of config/policy.example.yaml's metrics) through the real
 * poll planner and the real CloudWatchMetricSource, with the SDK client replaced by a stand-in
 * (a stand-in client answers every query with complete data), counting calls and metrics requested. Each metric turns
 * suspicious `--episodes` times a month for 10 minutes (a random, reproducible schedule).
 * Prints a table of assumptions, then one JSON line:
 * {"calls_per_cycle_1k","calls_per_cycle_10k","metrics_requested_per_cycle_10k","usd_per_metric_month","detection_latency_min",
 *  "backfill_days","backfill_calls_10k","backfill_usd_per_metric"}.
 *
 * It also plays the one-time warm start (src/pipeline/warm-start.ts) for the same metrics through the same
 * source: the calls its plan makes and what they cost per metric.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CloudWatchClient, GetMetricDataCommand, GetMetricDataCommandInput, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { CloudWatchMetricSource } from '../src/cloud/aws/cloudwatch-metrics.js';
import { RateLimiter } from '../src/cloud/aws/rate-limiter.js';
import { DEFAULT_POLL_SETTINGS, markSuspicious, planPoll, recordFetch, type PollState } from '../src/cloud/poll-plan.js';
import type { MetricQuery } from '../src/cloud/ports.js';
import { MINUTE, type EpochMs } from '../src/core/time.js';
import { parsePolicy } from '../src/policy/load.js';
import { BACKFILL_MAX_CALLS, BACKFILL_MS, planBackfill } from '../src/pipeline/warm-start.js';

const { values } = parseArgs({ options: { days: { type: 'string', default: '1' }, episodes: { type: 'string', default: '8' } } });
const days = Number(values.days);
const episodesPerMonth = Number(values.episodes);
const USD_PER_METRIC_REQUESTED = 0.01 / 1000;
const MINUTES_PER_MONTH = 30 * 24 * 60;
const EPISODE_MIN = 10;

const file = join(import.meta.dirname, '..', 'config', 'policy.example.yaml');
const policy = parsePolicy(readFileSync(file, 'utf8'), file);
const templates = policy.metrics.filter((m) => m.expression === undefined);

function watched(n: number): MetricQuery[] {
  return Array.from({ length: n }, (_, i) => {
    const t = templates[i % templates.length]!;
    return { id: `${t.id}_${i}`, service: t.service, namespace: t.namespace ?? '', metricName: t.metricName ?? '', dimensions: { ...t.dimensions, Copy: String(i) }, stat: t.stat, periodSec: t.period };
  });
}

/** A small deterministic PRNG, so runs are comparable. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A stand-in client answering every query with complete data. Not aws-sdk-client-mock: its call history
// would keep every request and answer of a simulated day in memory.
let calls = 0;
const fakeClient = {
  send(command: GetMetricDataCommand): Promise<{ MetricDataResults: MetricDataResult[] }> {
    calls += 1;
    const input: GetMetricDataCommandInput = command.input;
    const start = input.StartTime!.getTime();
    const end = input.EndTime!.getTime();
    const results: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q) => {
      const p = (q.MetricStat?.Period ?? q.Period ?? 60) * 1000;
      const ts: Date[] = [];
      for (let t = Math.ceil(start / p) * p; t < end; t += p) ts.push(new Date(t));
      return { Id: q.Id, Timestamps: ts, Values: ts.map(() => 1), StatusCode: 'Complete' };
    });
    return Promise.resolve({ MetricDataResults: results });
  },
} as unknown as CloudWatchClient;

async function run(n: number) {
  const metrics = watched(n);
  const source = new CloudWatchMetricSource(fakeClient, { limiter: new RateLimiter(1e9, 1e9) });
  const s = DEFAULT_POLL_SETTINGS;
  const rnd = mulberry32(n);
  const pStart = episodesPerMonth / MINUTES_PER_MONTH;
  const episodeEnds = new Map<string, number>();
  let state: PollState = {};
  const t0 = Date.UTC(2025, 0, 6, 0, 0, 0);
  const cycles = days * 24 * 60;
  const warm = 60; // the first hour includes every metric's first fetch; steady state after it
  let steadyCalls = 0;
  let steadyRequested = 0;
  let maxCalls = 0;
  let hotSum = 0;
  // Worst case detection: for each metric, the minutes at which it was polled.
  const polledAt = new Map<string, number[]>();
  for (let k = 0; k < cycles; k++) {
    const now = (t0 + k * MINUTE) as EpochMs;
    const plan = planPoll(metrics, state, now, s);
    const before = calls;
    for (const call of plan.calls) {
      const series = await source.fetch(call.queries, call.range, AbortSignal.timeout(10_000));
      state = recordFetch(state, call, series, s);
      if (k >= warm && k < warm + 120) for (const q of call.queries) {
        const list = polledAt.get(q.id);
        if (list) list.push(k);
        else polledAt.set(q.id, [k]);
      }
    }
    const suspicious: string[] = [];
    for (const m of metrics) {
      const end = episodeEnds.get(m.id);
      if (end !== undefined && k < end) suspicious.push(m.id);
      else if (rnd() < pStart) {
        episodeEnds.set(m.id, k + EPISODE_MIN);
        suspicious.push(m.id);
      }
    }
    state = markSuspicious(state, suspicious, now, s);
    if (k >= warm) {
      steadyCalls += calls - before;
      steadyRequested += plan.metricsRequested;
      maxCalls = Math.max(maxCalls, calls - before);
      hotSum += Object.values(state).filter((x) => x.hotUntil !== undefined && x.hotUntil > now).length;
    }
  }
  const steady = cycles - warm;
  // A datapoint for minute b is complete at b+1 and seen at the metric's first poll at or after b+1.
  let worst = 0;
  const worstByPeriod: Record<string, number> = {};
  const byId = new Map(metrics.map((m) => [m.id, m]));
  for (const [id, ks] of polledAt) {
    const m = byId.get(id)!;
    const p = m.periodSec / 60;
    for (let b = warm; b < warm + 100; b += p) {
      const seen = ks.find((k) => k >= b + p);
      if (seen !== undefined) {
        worst = Math.max(worst, seen - b);
        worstByPeriod[String(p)] = Math.max(worstByPeriod[String(p)] ?? 0, seen - b);
      }
    }
  }
  return {
    callsPerCycle: steadyCalls / steady,
    maxCalls,
    requestedPerCycle: steadyRequested / steady,
    requestedPerMetricMonth: (steadyRequested / steady / n) * MINUTES_PER_MONTH,
    hotShare: hotSum / steady / n,
    worst,
    worstByPeriod,
  };
}

/** The one-time warm start for `n` metrics: its plan, played through the real source (calls counted). */
async function backfill(n: number) {
  const metrics = watched(n);
  const source = new CloudWatchMetricSource(fakeClient, { limiter: new RateLimiter(1e9, 1e9) });
  const end = Date.UTC(2025, 0, 20, 0, 0, 0);
  const plan = planBackfill(metrics, end);
  const before = calls;
  for (const c of plan.calls) await source.fetch(c.metrics, c.range, AbortSignal.timeout(10_000));
  const span = Math.min(...plan.spanMs.values());
  return { calls: calls - before, planned: plan.calls.length, requested: plan.metricsRequested, usd: plan.costUsd, perMetricUsd: plan.costUsd / n, days: span / (24 * 60 * MINUTE) };
}

const started = performance.now();
const r1k = await run(1000);
const r10k = await run(10_000);
const usd = r10k.requestedPerMetricMonth * USD_PER_METRIC_REQUESTED;
const b1k = await backfill(1000);
const b10k = await backfill(10_000);
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

console.log(`simulated ${days} day(s) of 1-minute cycles in ${Math.round(performance.now() - started)} ms; metric templates from ${file}`);
console.log(`poll settings: quiet every ${DEFAULT_POLL_SETTINGS.quietEveryMs / MINUTE} min, hot every ${DEFAULT_POLL_SETTINGS.hotEveryMs / MINUTE} min for ${DEFAULT_POLL_SETTINGS.hotHoldMs / MINUTE} min after a metric looks odd; settle ${DEFAULT_POLL_SETTINGS.settleMs / MINUTE} min`);
console.log(`assumed: each metric looks suspicious ${episodesPerMonth}x a month for ${EPISODE_MIN} min; hot share observed ${(r10k.hotShare * 100).toFixed(2)} % of metrics`);
console.log(`1k metrics: ${round(r1k.callsPerCycle)} calls/cycle (max ${r1k.maxCalls}), ${round(r1k.requestedPerCycle, 0)} metrics requested/cycle`);
console.log(`10k metrics: ${round(r10k.callsPerCycle)} calls/cycle (max ${r10k.maxCalls}, ${round(r10k.maxCalls / 60, 3)} TPS if sent at once: quota 50), ${round(r10k.requestedPerCycle, 0)} metrics requested/cycle`);
console.log(`cost: ${round(r10k.requestedPerMetricMonth, 0)} metric requests per metric-month x $0.01/1000 = $${usd.toFixed(4)} (every-minute polling would be $${(MINUTES_PER_MONTH * USD_PER_METRIC_REQUESTED).toFixed(3)})`);
console.log(`worst-case detection latency (quiet metric, from the start of the bad minute to the poll that reads it; CloudWatch's own publishing delay not included): ${Math.max(r1k.worst, r10k.worst)} min; by metric period (min): ${JSON.stringify(r10k.worstByPeriod)} — a 5-minute metric cannot be seen before its bucket closes`);
console.log(`warm start (one time): ${BACKFILL_MS / (24 * 60 * MINUTE)} days wanted within ${BACKFILL_MAX_CALLS} calls; 1k metrics: ${b1k.calls} calls, ${round(b1k.days, 1)} days, $${b1k.usd.toFixed(4)}; 10k metrics: ${b10k.calls} calls (${round(b10k.calls / 10, 0)} s at 10 calls/s), ${round(b10k.days, 1)} days, $${b10k.usd.toFixed(4)} — $${b10k.perMetricUsd.toFixed(6)} and ${round(b10k.requested / 10_000, 2)} metric requests per metric`);
console.log(
  JSON.stringify({
    calls_per_cycle_1k: round(r1k.callsPerCycle),
    calls_per_cycle_10k: round(r10k.callsPerCycle),
    metrics_requested_per_cycle_10k: round(r10k.requestedPerCycle, 0),
    usd_per_metric_month: round(usd, 4),
    detection_latency_min: Math.max(r1k.worst, r10k.worst),
    detection_latency_min_by_period_min: r10k.worstByPeriod,
    backfill_days: round(b10k.days, 1),
    backfill_calls_1k: b1k.calls,
    backfill_calls_10k: b10k.calls,
    backfill_calls_per_metric: round(b10k.requested / 10_000, 3),
    backfill_usd_per_metric: round(b10k.perMetricUsd, 6),
  }),
);
