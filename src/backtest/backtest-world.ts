import { createAwsPorts, type AwsPortsOptions } from '../cloud/aws/index.js';
import { SimCloud, SimStateFile, loadScenario } from '../cloud/sim/index.js';
import { ManualClock } from '../core/clock.js';
import { parseDuration, type EpochMs } from '../core/time.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { BacktestWorld } from './run-backtest.js';

export interface OpenedWorld {
  readonly world: BacktestWorld;
  /** The stretch a scenario covers (simulated cloud only): the default --from and --to. */
  readonly span: { readonly from: EpochMs; readonly to: EpochMs } | null;
  /** What "now" is for this world: the wall clock on AWS, the scenario's end on the simulated cloud. */
  readonly now: EpochMs;
  close(): void;
}

/**
 * The read side of the policy's world. On AWS: the same adapters as the daemon (region, endpoint), of which
 * the backtest calls only reads. On the simulated cloud: the scenario, shown as it stands at its end, so
 * the replay sees the whole scenario with nothing healed (a backtest never acts).
 */
export function openBacktestWorld(policy: CompiledPolicy, wallNow: EpochMs, aws: Partial<AwsPortsOptions> = {}): OpenedWorld {
  if (policy.scenarioFile) {
    const scenario = loadScenario(policy.scenarioFile);
    const from = Date.parse(scenario.start) as EpochMs;
    const to = (from + parseDuration(scenario.duration)) as EpochMs;
    const sim = new SimCloud(scenario, new ManualClock(to), new SimStateFile(null));
    return { world: { metrics: sim, deployments: sim, logs: sim.logSource }, span: { from, to }, now: to, close: () => undefined };
  }
  const ports = createAwsPorts({ region: policy.doc.account.region, ...aws });
  return { world: { metrics: ports.metrics, deployments: ports.deployments, logs: ports.logs }, span: null, now: wallNow, close: () => ports.clients.destroy() };
}

/** A time on the command line: ISO 8601, `now`, or `now-7d` / `-7d` relative to `now`. */
export function parseWhen(text: string, now: EpochMs): EpochMs {
  const rel = /^(?:now)?-(\d+(?:ms|s|m|h|d))$/.exec(text.trim());
  if (rel?.[1]) return (now - parseDuration(rel[1])) as EpochMs;
  if (text.trim() === 'now') return now;
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new Error(`not a time: "${text}" (ISO 8601 such as 2026-11-02T08:00:00Z, now, or now-7d)`);
  return t as EpochMs;
}
