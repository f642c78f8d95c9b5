import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import type { MetricQuery, MetricSeries, MetricSource, TimeRange } from './ports.js';
import { markSuspicious, planPoll, pruneState, recordFetch, type PollSettings, type PollState } from './poll-plan.js';

const STATE_KEY = 'poll:state';

export interface AdaptiveMetricSourceOptions {
  readonly inner: MetricSource;
  readonly store: Store;
  readonly clock: Clock;
  readonly settings: PollSettings;
  /** Metric ids that look odd right now (anomalous points, open incidents): polled every cycle. */
  readonly suspicious: () => Promise<Iterable<string>>;
}

/**
 * The poll cycle's MetricSource on real CloudWatch: asks only for the metrics that are due under the
 * adaptive plan (src/cloud/poll-plan.ts) and returns no series for the others, which the observer
 * treats as "nothing new yet" and reads again later from where it stopped. CloudWatch bills per metric
 * requested, so a quiet metric is read every few minutes with several datapoints at once, and a
 * suspicious one every cycle. The plan's state is kept in the store so a restart keeps the schedule.
 *
 * `range` is ignored: the plan knows from where each metric was last read.
 */
export class AdaptiveMetricSource implements MetricSource {
  constructor(private readonly o: AdaptiveMetricSourceOptions) {}

  async fetch(queries: readonly MetricQuery[], _range: TimeRange, signal: AbortSignal): Promise<MetricSeries[]> {
    const { store, settings } = this.o;
    const now = this.o.clock.now();
    let state: PollState = pruneState((await store.getValue<PollState>(STATE_KEY)) ?? {}, queries);
    state = markSuspicious(state, await this.o.suspicious(), now, settings);
    const plan = planPoll(queries, state, now, settings);
    const out: MetricSeries[] = [];
    try {
      for (const call of plan.calls) {
        const series = await this.o.inner.fetch(call.queries, call.range, signal);
        state = recordFetch(state, call, series, settings);
        out.push(...series);
      }
    } finally {
      // What was read is committed even when a later call of the cycle fails.
      await store.setValue(STATE_KEY, state);
    }
    return out;
  }
}
