import {
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  GetQueryResultsCommand,
  StartQueryCommand,
  StopQueryCommand,
  type CloudWatchLogsClient,
  type ResultField,
} from '@aws-sdk/client-cloudwatch-logs';
import { abortableTimeout } from '../../core/clock.js';
import { PermanentError, TransientError } from '../../core/errors.js';
import { MINUTE, toSeconds, type EpochMs, type Seconds } from '../../core/time.js';
import type { LogQuery, LogRecord, LogSource, TimeRange } from '../ports.js';
import { abortReason, awsCall } from './errors.js';
import { RateLimiter } from './rate-limiter.js';

/** Logs Insights limits (StartQuery). */
export const MAX_GROUPS_PER_QUERY = 50;
/** Rows per GetQueryResults page; we never ask for more, so one page holds the whole answer. */
export const MAX_ROWS = 10_000;
/** Longest message we pass on; the rest is cut with a marker (events can be 256 KB). */
export const MAX_MESSAGE_CHARS = 8_192;

export interface LogsOptions {
  /** Give up on a query after this long and StopQuery it. Default 30 s. */
  readonly queryTimeoutMs?: number;
  /** First and longest wait between GetQueryResults polls. Default 250 ms → 4 s (×1.6). */
  readonly pollInitialMs?: number;
  readonly pollMaxMs?: number;
  /**
   * Groups whose stored size is below this are read with FilterLogEvents (no query to start and poll);
   * 0 turns the fallback off. Default 64 MiB. Sizes come from DescribeLogGroups, cached for an hour.
   */
  readonly filterEventsBelowBytes?: number;
  /** FilterLogEvents pages per group before we stop (1 MB / 10,000 events each). Default 10. */
  readonly maxFilterPages?: number;
  /** For tests. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly now?: () => number;
}

/** Per-minute error counts and a few sample lines for one window. */
export interface ErrorWindow {
  readonly range: TimeRange;
  readonly perMinute: readonly { readonly t: EpochMs; readonly count: number }[];
  readonly total: number;
  readonly samples: readonly LogRecord[];
}

export interface ErrorProfileQuery {
  readonly groups: readonly string[];
  readonly onset: TimeRange;
  /** A window before the onset, to tell a new error from one that was always there. */
  readonly baseline: TimeRange;
  /** What counts as an error line: substring (case-insensitive) or /regex/. Default /error|exception|fatal/i. */
  readonly filter?: string;
  /** Sample lines per window. Default 5. */
  readonly samples?: number;
}

const DEFAULT_ERROR_FILTER = '/error|exception|fatal|panic/i';

/** Escapes text for a Logs Insights /regex/ literal. */
function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The port's filter (substring, case-insensitive, or /regex/flags) as a Logs Insights `like` regex. */
export function insightsFilter(filter: string): string {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(filter);
  if (m) {
    const body = m[1]!.replace(/(?<!\\)\//g, '\\/');
    return `filter @message like /${m[2]!.includes('i') ? '(?i)' : ''}${body}/`;
  }
  return `filter @message like /(?i)${escapeRegex(filter)}/`;
}

/** The same filter as a JS predicate, applied to every result too (emulators and FilterLogEvents). */
export function filterPredicate(filter: string | undefined): (message: string) => boolean {
  if (filter === undefined || filter === '') return () => true;
  const m = /^\/(.*)\/([a-z]*)$/s.exec(filter);
  if (m) {
    let re: RegExp;
    try {
      re = new RegExp(m[1]!, m[2]!.replace(/[gy]/g, ''));
    } catch (err) {
      throw new PermanentError(`log filter ${filter} is not a valid regular expression`, { cause: err });
    }
    return (s) => re.test(s);
  }
  const needle = filter.toLowerCase();
  return (s) => s.toLowerCase().includes(needle);
}

/** Builds the Insights query for LogSource.fetch: newest `limit` matching lines. */
export function recordsQuery(filter: string | undefined, limit: number): string {
  const parts = ['fields @timestamp, @message, @log'];
  if (filter !== undefined && filter !== '') parts.push(insightsFilter(filter));
  parts.push('sort @timestamp desc', `limit ${limit}`);
  return parts.join(' | ');
}

/** Builds the Insights query for per-minute counts. */
export function countsQuery(filter: string): string {
  return [insightsFilter(filter), 'stats count(*) as n by bin(1m) as minute'].join(' | ');
}

/** Insights prints times as "2024-05-01 12:03:04.567" in UTC; epoch milliseconds are accepted too. */
export function parseInsightsTime(s: string): EpochMs | undefined {
  if (/^\d{10,}$/.test(s)) return Number(s) as EpochMs;
  const iso = /^\d{4}-\d\d-\d\d \d\d:\d\d/.test(s) ? `${s.replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? '' : 'Z'}` : s;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? (t as EpochMs) : undefined;
}

/** Start/end for StartQuery: epoch seconds, both inclusive (the port's end is exclusive, in ms). */
export function insightsTimes(range: TimeRange): { startTime: Seconds; endTime: Seconds } {
  return { startTime: toSeconds(range.start), endTime: toSeconds((range.end - 1) as EpochMs) };
}

function cut(message: string): string {
  return message.length <= MAX_MESSAGE_CHARS ? message : `${message.slice(0, MAX_MESSAGE_CHARS)} …[cut ${message.length - MAX_MESSAGE_CHARS} chars]`;
}

function rowField(row: readonly ResultField[], name: string): string | undefined {
  return row.find((f) => f.field === name)?.value;
}

/** LogSource over Logs Insights, with FilterLogEvents for small groups. */
export class InsightsLogSource implements LogSource {
  private readonly queryTimeoutMs: number;
  private readonly pollInitialMs: number;
  private readonly pollMaxMs: number;
  private readonly smallBytes: number;
  private readonly maxFilterPages: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => number;
  private readonly sizes = new Map<string, { bytes: number; at: number }>();
  /** FilterLogEvents: 5 TPS per account and Region, not adjustable. */
  private readonly filterLimiter: RateLimiter;

  constructor(
    private readonly client: CloudWatchLogsClient,
    options: LogsOptions = {},
  ) {
    this.queryTimeoutMs = options.queryTimeoutMs ?? 30_000;
    this.pollInitialMs = options.pollInitialMs ?? 250;
    this.pollMaxMs = options.pollMaxMs ?? 4_000;
    this.smallBytes = options.filterEventsBelowBytes ?? 64 * 1024 * 1024;
    this.maxFilterPages = options.maxFilterPages ?? 10;
    this.sleep = options.sleep ?? abortableTimeout;
    this.now = options.now ?? (() => performance.now());
    this.filterLimiter = new RateLimiter(4, 4, this.now, this.sleep);
  }

  async fetch(query: LogQuery, signal: AbortSignal): Promise<LogRecord[]> {
    const limit = Math.max(0, Math.min(Math.floor(query.limit), MAX_ROWS));
    if (limit === 0 || query.groups.length === 0 || query.range.end <= query.range.start) return [];
    const keep = filterPredicate(query.filter);
    const small = await this.smallGroups(query.groups, signal);
    const large = query.groups.filter((g) => !small.has(g));
    const batches: Promise<LogRecord[]>[] = [];
    for (let i = 0; i < large.length; i += MAX_GROUPS_PER_QUERY) {
      const groups = large.slice(i, i + MAX_GROUPS_PER_QUERY);
      batches.push(this.runQuery(groups, query.range, recordsQuery(query.filter, limit), signal).then((rows) => this.toRecords(rows, groups)));
    }
    for (const g of small) batches.push(this.filterEvents(g, query.range, limit, keep, signal));
    const settled = await Promise.allSettled(batches);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const all = settled
      .flatMap((s) => (s.status === 'fulfilled' ? s.value : []))
      .filter((r) => r.t >= query.range.start && r.t < query.range.end && keep(r.message))
      .sort((a, b) => a.t - b.t);
    return all.slice(Math.max(0, all.length - limit)).map((r) => ({ ...r, message: cut(r.message) }));
  }

  /** Per-minute error counts and a few samples for the onset window and a baseline window before it. */
  async errorProfile(q: ErrorProfileQuery, signal: AbortSignal): Promise<{ onset: ErrorWindow; baseline: ErrorWindow }> {
    const filter = q.filter ?? DEFAULT_ERROR_FILTER;
    const n = q.samples ?? 5;
    const [onset, baseline] = await Promise.all([this.errorWindow(q.groups, q.onset, filter, n, signal), this.errorWindow(q.groups, q.baseline, filter, n, signal)]);
    return { onset, baseline };
  }

  private async errorWindow(groups: readonly string[], range: TimeRange, filter: string, n: number, signal: AbortSignal): Promise<ErrorWindow> {
    const counts = new Map<number, number>();
    const countBatches: Promise<void>[] = [];
    for (let i = 0; i < groups.length; i += MAX_GROUPS_PER_QUERY) {
      const batch = groups.slice(i, i + MAX_GROUPS_PER_QUERY);
      countBatches.push(
        this.runQuery(batch, range, countsQuery(filter), signal).then((rows) => {
          for (const row of rows) {
            const t = parseInsightsTime(rowField(row, 'minute') ?? '');
            const c = Number(rowField(row, 'n'));
            if (t === undefined || !Number.isFinite(c)) continue;
            const minute = Math.floor(t / MINUTE) * MINUTE;
            counts.set(minute, (counts.get(minute) ?? 0) + c);
          }
        }),
      );
    }
    const [samples] = await Promise.all([this.fetch({ groups, range, limit: n, filter }, signal), Promise.all(countBatches)]);
    const perMinute = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([t, count]) => ({ t: t as EpochMs, count }));
    return { range, perMinute, total: perMinute.reduce((s, p) => s + p.count, 0), samples };
  }

  /** StartQuery, then GetQueryResults with backoff until done or the deadline; StopQuery on giving up. */
  private async runQuery(groups: readonly string[], range: TimeRange, queryString: string, signal: AbortSignal): Promise<ResultField[][]> {
    const { startTime, endTime } = insightsTimes(range);
    const started = await awsCall('logs.StartQuery', signal, () =>
      this.client.send(new StartQueryCommand({ logGroupNames: [...groups], startTime, endTime, queryString, limit: MAX_ROWS }), { abortSignal: signal }),
    );
    const queryId = started.queryId;
    if (queryId === undefined || queryId === '') throw new TransientError('logs.StartQuery returned no queryId');
    const deadline = this.now() + this.queryTimeoutMs;
    let wait = this.pollInitialMs;
    try {
      for (;;) {
        const out = await awsCall('logs.GetQueryResults', signal, () => this.client.send(new GetQueryResultsCommand({ queryId }), { abortSignal: signal }));
        switch (out.status) {
          case 'Complete':
            return out.results ?? [];
          case 'Failed':
            throw new PermanentError(`logs insights query ${queryId} failed (check the query and log group names): ${queryString}`);
          case 'Cancelled':
          case 'Timeout':
          case 'Unknown':
            throw new TransientError(`logs insights query ${queryId} ended with status ${out.status}`);
          default:
            break; // Scheduled, Running: keep polling
        }
        const left = deadline - this.now();
        if (left <= 0) throw new TransientError(`logs insights query ${queryId} not complete after ${this.queryTimeoutMs} ms; stopped it`);
        await this.sleep(Math.min(wait, left), signal).catch((err: unknown) => {
          throw awsAbort(signal, err);
        });
        wait = Math.min(this.pollMaxMs, wait * 1.6);
      }
    } catch (err) {
      if (err instanceof TransientError || signal.aborted) await this.stop(queryId);
      throw err;
    }
  }

  /** Best effort, on its own short deadline: the caller's signal may already be aborted. */
  private async stop(queryId: string): Promise<void> {
    try {
      await this.client.send(new StopQueryCommand({ queryId }), { abortSignal: AbortSignal.timeout(3_000) });
    } catch {
      // Already finished, or unreachable: the service times the query out by itself.
    }
  }

  private toRecords(rows: readonly ResultField[][], groups: readonly string[]): LogRecord[] {
    const records: LogRecord[] = [];
    for (const row of rows) {
      const t = parseInsightsTime(rowField(row, '@timestamp') ?? '');
      if (t === undefined) continue;
      const log = rowField(row, '@log');
      // @log is "account-id:group-name".
      const group = log !== undefined ? log.slice(log.indexOf(':') + 1) : groups.length === 1 ? groups[0]! : '';
      records.push({ t, group, message: rowField(row, '@message') ?? '' });
    }
    return records;
  }

  private async smallGroups(groups: readonly string[], signal: AbortSignal): Promise<Set<string>> {
    const small = new Set<string>();
    if (this.smallBytes <= 0) return small;
    for (const g of groups) {
      const cached = this.sizes.get(g);
      let bytes = cached && this.now() - cached.at < 3_600_000 ? cached.bytes : undefined;
      if (bytes === undefined) {
        const out = await awsCall('logs.DescribeLogGroups', signal, () =>
          this.client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: g, limit: 50 }), { abortSignal: signal }),
        );
        const found = (out.logGroups ?? []).find((lg) => lg.logGroupName === g);
        if (!found) throw new PermanentError(`log group "${g}" does not exist`);
        bytes = found.storedBytes ?? 0;
        this.sizes.set(g, { bytes, at: this.now() });
      }
      if (bytes < this.smallBytes) small.add(g);
    }
    return small;
  }

  private async filterEvents(group: string, range: TimeRange, limit: number, keep: (m: string) => boolean, signal: AbortSignal): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      await this.filterLimiter.take(signal).catch((err: unknown) => {
        throw awsAbort(signal, err);
      });
      const page = await awsCall('logs.FilterLogEvents', signal, () =>
        this.client.send(
          new FilterLogEventsCommand({
            logGroupName: group,
            startTime: range.start,
            endTime: range.end - 1, // inclusive, in milliseconds (unlike Insights)
            limit: MAX_ROWS,
            ...(token !== undefined ? { nextToken: token } : {}),
          }),
          { abortSignal: signal },
        ),
      );
      pages += 1;
      for (const e of page.events ?? []) {
        if (e.timestamp === undefined || !keep(e.message ?? '')) continue;
        out.push({ t: e.timestamp as EpochMs, group, message: e.message ?? '' });
      }
      // Pages may be empty yet carry a token: keep going until there is none.
      token = page.nextToken !== undefined && page.nextToken !== '' ? page.nextToken : undefined;
    } while (token !== undefined && pages < this.maxFilterPages);
    out.sort((a, b) => a.t - b.t);
    return out.slice(Math.max(0, out.length - limit));
  }
}

function awsAbort(signal: AbortSignal, err: unknown): unknown {
  return signal.aborted ? new TransientError('logs query cancelled', { cause: abortReason(signal) }) : err;
}
