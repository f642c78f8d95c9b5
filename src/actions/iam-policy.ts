import { ACTIONS } from './catalogue.js';

/**
 * iam-policy.json and iam-policy.readonly.json, generated from the action catalogue (`npm run gen:iam`;
 * a test checks the committed files equal this). The watcher's own reads come first; each catalogue
 * action adds its reads, and — outside shadow mode — its writes.
 */

export interface IamStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
}

export interface IamPolicy {
  readonly Version: '2012-10-17';
  readonly Statement: readonly IamStatement[];
}

/** What the daemon needs whatever it may do: metrics, logs, deployments, announcements, the kill switch, the agent. */
const WATCHER: readonly IamStatement[] = [
  { Sid: 'ReadMetricsNoResourceLevelPermissions', Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: '*' },
  { Sid: 'ReadLogsInsightsQueriesAreNotResources', Effect: 'Allow', Action: ['logs:GetQueryResults', 'logs:StopQuery', 'logs:DescribeLogGroups'], Resource: '*' },
  { Sid: 'ReadWatchedLogGroups', Effect: 'Allow', Action: ['logs:StartQuery', 'logs:FilterLogEvents'], Resource: 'arn:aws:logs:*:*:log-group:*' },
  { Sid: 'ReadDeployments', Effect: 'Allow', Action: ['codepipeline:GetPipeline', 'codepipeline:ListPipelineExecutions', 'codepipeline:ListActionExecutions', 'codepipeline:GetPipelineExecution'], Resource: 'arn:aws:codepipeline:*:*:*' },
  // sns.notify steps publish through this grant too: their topics must be named cloudops-*.
  { Sid: 'AnnounceOnTheApprovalTopic', Effect: 'Allow', Action: ['sns:Publish'], Resource: 'arn:aws:sns:*:*:cloudops-*' },
  { Sid: 'ReadKillSwitchParameter', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: 'arn:aws:ssm:*:*:parameter/cloudops/*' },
  // accounts[].roleArn (issue 16 item 5): the watched accounts' roles, which must be named cloudops-*.
  { Sid: 'AssumeWatchedAccountRoles', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: 'arn:aws:iam::*:role/cloudops-*' },
  // store.kind: dynamodb keeps the shared state here (items only: the daemon's role never creates tables).
  {
    Sid: 'SharedStateOnDynamoDB',
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:Query', 'dynamodb:Scan'],
    Resource: ['arn:aws:dynamodb:*:*:table/cloudops-*', 'arn:aws:dynamodb:*:*:table/cloudops-*/index/*'],
  },
  {
    Sid: 'AgentDraftsRunbooksWithBedrock',
    Effect: 'Allow',
    Action: ['bedrock:InvokeModel', 'bedrock:ApplyGuardrail'],
    Resource: ['arn:aws:bedrock:*::foundation-model/*', 'arn:aws:bedrock:*:*:inference-profile/*', 'arn:aws:bedrock:*:*:guardrail/*'],
  },
];

const SERVICE_SID: Record<string, string> = { codepipeline: 'Pipelines', ecs: 'EcsServices', lambda: 'LambdaAliases', ssm: 'SsmAutomation', sns: 'Sns' };

/** The policy document; `readonly` = shadow mode (reads only: previews and checks work, nothing can change). */
export function iamPolicy(opts: { readonly readonly: boolean }): IamPolicy {
  const granted = new Set(WATCHER.flatMap((s) => s.Action));
  const out: IamStatement[] = [...WATCHER];
  const add = (kind: 'Read' | 'Write', pick: (a: (typeof ACTIONS)[number]) => readonly string[]): void => {
    // service → resource → actions, in catalogue order, each action granted once.
    const byService = new Map<string, { resource: string; actions: string[] }>();
    for (const a of ACTIONS) {
      for (const iam of pick(a)) {
        if (granted.has(iam)) continue;
        granted.add(iam);
        const svc = iam.split(':')[0] ?? iam;
        const group = byService.get(svc) ?? { resource: a.iam.resource, actions: [] };
        group.actions.push(iam);
        byService.set(svc, group);
      }
    }
    for (const [svc, g] of byService) out.push({ Sid: `Actions${kind}${SERVICE_SID[svc] ?? svc}`, Effect: 'Allow', Action: g.actions, Resource: g.resource });
  };
  add('Read', (a) => a.iam.read);
  if (!opts.readonly) add('Write', (a) => a.iam.write);
  return { Version: '2012-10-17', Statement: out };
}

/** The file text exactly as committed. */
export const iamPolicyText = (opts: { readonly readonly: boolean }): string => `${JSON.stringify(iamPolicy(opts), null, 2)}\n`;
