import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { errorMessage } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { EpochMs } from '../core/time.js';
import { compilePolicy } from '../policy/compile.js';
import { loadPolicyFile, PolicyInvalidError } from '../policy/load.js';
import { openBacktestWorld, parseWhen } from './backtest-world.js';
import { renderPlan, renderReport } from './render-report.js';
import { runBacktest, type BacktestPlan } from './run-backtest.js';

interface BacktestFlags {
  policy: string;
  from?: string;
  to?: string;
  json?: boolean;
  yes?: boolean;
  maxCalls?: number;
  maxLogQueries: number;
}

/** A progress bar on stderr: redrawn in place on a terminal, a line every 10 % otherwise. */
function progress(): (phase: string, done: number, total: number) => void {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  let lastPhase = '';
  return (phase, done, total) => {
    const share = total > 0 ? done / total : 1;
    if (tty) {
      const width = 30;
      const full = Math.round(share * width);
      process.stderr.write(`\r${phase.padEnd(7)} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total}${done === total ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(share * 10);
    if (tenth !== lastTenth || phase !== lastPhase) process.stderr.write(`${phase} ${Math.round(share * 100)}% (${done}/${total})\n`);
    lastTenth = tenth;
    lastPhase = phase;
  };
}

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** `cloudops backtest`: what the policy would have proposed over a stretch of the account's history. */
export function registerBacktest(program: Command, fail: (message: string, code?: number) => never): void {
  program
    .command('backtest')
    .description("replay the account's recorded metrics and deployments through detection, grouping and correlation: what would have been proposed (read-only)")
    .requiredOption('--policy <file>', 'policy YAML', process.env['CLOUDOPS_POLICY'])
    .option('--from <time>', 'ISO 8601, now-7d …; default: the scenario start on the simulated cloud, now-7d on AWS')
    .option('--to <time>', 'ISO 8601, now …; default: the scenario end on the simulated cloud, now on AWS')
    .option('--json', 'the report as JSON on stdout')
    .option('--yes', 'do not ask before making the read calls shown')
    .option('--max-calls <n>', 'refuse to start when the plan needs more GetMetricData calls than this', (v) => Number(v))
    .option('--max-log-queries <n>', 'Logs Insights queries the replay may make for evidence', (v) => Number(v), 20)
    .action(async (o: BacktestFlags) => {
      let policy;
      try {
        policy = compilePolicy(loadPolicyFile(o.policy).policy, o.policy);
      } catch (err) {
        return fail(errorMessage(err), err instanceof PolicyInvalidError ? 2 : 1);
      }
      const endpoint = process.env['AWS_ENDPOINT_URL'];
      const opened = openBacktestWorld(policy, Date.now() as EpochMs, endpoint ? { endpoint } : {});
      try {
        const from = o.from ? parseWhen(o.from, opened.now) : (opened.span?.from ?? parseWhen('now-7d', opened.now));
        const to = o.to ? parseWhen(o.to, opened.now) : (opened.span?.to ?? opened.now);
        const confirm = async (plan: BacktestPlan): Promise<boolean> => {
          process.stderr.write(`${renderPlan(plan)}\n`);
          if (o.maxCalls !== undefined && plan.metrics.calls.length > o.maxCalls) fail(`the plan needs ${plan.metrics.calls.length} GetMetricData calls, more than --max-calls ${o.maxCalls}; shorten --from/--to`);
          if (o.yes || opened.span) return true;
          if (!process.stdin.isTTY) fail('pass --yes to make these calls without a terminal to confirm them');
          return ask('Make these calls? [y/N] ');
        };
        const ac = new AbortController();
        process.once('SIGINT', () => ac.abort(new Error('interrupted')));
        const { report } = await runBacktest({
          policy,
          world: opened.world,
          from,
          to,
          now: opened.now,
          logger: createLogger({ level: 'silent' }),
          signal: ac.signal,
          confirm,
          onProgress: progress(),
          maxLogQueries: o.maxLogQueries,
        });
        if (!report) return fail('nothing read: not confirmed');
        process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : `${renderReport(report)}\n`);
      } catch (err) {
        fail(`backtest: ${errorMessage(err)}`);
      } finally {
        opened.close();
      }
    });
}
