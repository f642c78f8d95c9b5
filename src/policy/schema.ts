import { z } from 'zod';
import { parseDuration } from '../core/time.js';
import { detectorConfigSchema } from '../detect/config.js';
import { agentPolicySchema } from '../agent/agent-policy.js';
import { mcpPolicySchema } from '../mcp/mcp-policy.js';

/**
 * The policy file's schema: strict (unknown keys are errors), with documented defaults.
 * Cross-references (a metric's service exists, a quorum names known approvers …) are checked in
 * `cross-check.ts`; the JSON Schema for editors is generated from this (`npm run schema`).
 */

const DURATION = /^\d+(ms|s|m|h|d)$/;

// ---- Bounds (issue 9 item 9): no duration, size or count without a limit. ----
/** A duration whose value lies in [min, max] (both written as durations); the format is checked first. */
export const durationIn = (min: string, max: string) =>
  z
    .string()
    .regex(DURATION, 'expected a duration such as 30s, 5m, 2h, 1d')
    .refine((s) => {
      if (!DURATION.test(s)) return true; // the format message already says what is wrong
      const ms = parseDuration(s);
      return ms >= parseDuration(min) && ms <= parseDuration(max);
    }, `expected a duration between ${min} and ${max}`);
/** Any duration the policy takes: at most a year (`99999999999999999999d` is a typo, not a setting). */
export const duration = durationIn('0ms', '366d');
/** Longest free-text value (descriptions, reasons, names shown to people). */
const TEXT_MAX = 1000;
// ---- end of bounds ----
const name = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lowercase name (letters, digits, - and _)');
const risk = z.enum(['low', 'medium', 'high']);

/** How long an ended incident stays in the listings after its last change (SQLite: then archived; DynamoDB: then expired by TTL). */
const storeRetention = durationIn('1d', '400d').default('30d').describe('ended incidents older than this leave the listings: archived (SQLite) or expired by TTL (DynamoDB); the audit trail stays verifiable');
const auditRetention = durationIn('1d', '3650d')
  .optional()
  .describe('audit records older than this are removed under a signed summary at maintenance (SQLite: those of archived incidents or of none; DynamoDB: the whole chain of an ended or expired incident, and old records of none), and `cloudops audit verify` accepts what the summary covers; needs CLOUDOPS_AUDIT_KEY. Absent: the audit trail is kept whole');


const metricSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-zA-Z0-9_]{0,254}$/, 'expected an id that starts with a lowercase letter (letters, digits, _), as CloudWatch requires'),
  service: name,
  namespace: z.string().min(1).max(255).optional(),
  metricName: z.string().min(1).max(255).optional(),
  dimensions: z.record(z.string().min(1).max(255), z.string().min(1).max(1024)).refine((d) => Object.keys(d).length <= 30, 'at most 30 dimensions (CloudWatch)').default({}),
  stat: z.string().regex(/^(Average|Sum|Minimum|Maximum|SampleCount|IQM|p\d{1,2}(\.\d+)?|(TM|WM|PR|TC|TS)\([^)]*\))$/, 'expected a CloudWatch statistic such as Average, Sum, p99 or TM(10%:90%)').default('Average'),
  period: z.int().refine((n) => n === 1 || n === 5 || n === 10 || n === 30 || (n >= 60 && n % 60 === 0), 'expected 1, 5, 10, 30 or a multiple of 60 seconds').default(60),
  expression: z.string().min(1).max(2048).optional().describe('metric math instead of namespace/metricName'),
  unit: z.string().optional(),
  detector: detectorConfigSchema.optional(),
});

const serviceSchema = z.strictObject({
  description: z.string().max(TEXT_MAX).optional(),
  pipelines: z.array(z.string().min(1).max(100)).max(50).default([]).describe('CodePipeline pipelines that deploy this service'),
  logGroups: z.array(z.string().min(1).max(512)).max(50).default([]),
  dependsOn: z.array(name).max(100).default([]),
});

const approverSchema = z.strictObject({
  displayName: z.string().min(1).max(100).optional(),
  email: z.email().optional(),
  slackUserId: z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'expected a Slack user id such as U012AB3CD').optional(),
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected the hex sha256 of the approver token (never the token itself)').optional(),
  authorIds: z.array(z.string().min(1).max(200)).max(20).optional().describe('repository author identities (git author emails, logins) of this person, for the self-approval check'),
});

const quorumSchema = z.strictObject({
  approvals: z.int().min(1).max(10),
  from: z.array(z.string()).min(1).max(1000).describe('groups or approvers whose approval counts'),
});

const paramRuleSchema = z.strictObject({
  required: z.boolean().default(true),
  pattern: z.string().max(1000).optional().describe('regular expression the value must match in full'),
  enum: z.array(z.union([z.string().max(1024), z.number(), z.boolean()])).min(1).max(1000).optional(),
  min: z.number().optional().describe('smallest number allowed (e.g. desiredCount)'),
  max: z.number().optional().describe('largest number allowed (e.g. desiredCount)'),
});

const actionSchema = z.strictObject({
  risk,
  description: z.string().max(TEXT_MAX).optional(),
  params: z.record(z.string().min(1).max(100), paramRuleSchema).refine((p) => Object.keys(p).length <= 50, 'at most 50 parameters').default({}),
});

const windowSchema = z.strictObject({
  name: z.string().min(1).max(200),
  services: z.array(name).max(1000).default([]).describe('empty = every service'),
  start: z.iso.datetime({ offset: true }).describe('ISO 8601 with offset'),
  end: z.iso.datetime({ offset: true }),
  reason: z.string().min(1).max(TEXT_MAX),
});

const slackSchema = z.strictObject({
  channel: z.string().min(1),
  botTokenEnv: z.string().default('SLACK_BOT_TOKEN').describe('environment variable holding the bot token'),
  signingSecretEnv: z.string().default('SLACK_SIGNING_SECRET'),
  apiUrl: z.url().optional().describe('override of the Web API base URL (tests)'),
  socketMode: z.boolean().default(false),
  teamId: z.string().regex(/^T[A-Z0-9]{2,20}$/, 'expected a Slack team id such as T012AB3CD').optional().describe('refuse clicks from other workspaces'),
  appTokenEnv: z.string().default('SLACK_APP_TOKEN'),
});

const topicArn = z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'expected an SNS topic ARN');

const snsSchema = z.strictObject({
  topicArn,
});

const emailSchema = z.strictObject({
  topicArn: topicArn.describe('standard topic; each approver subscribes with the filter policy {"approver": ["<name>"]}'),
  linkSecretEnv: z.string().default('CLOUDOPS_LINK_SECRET').describe('environment variable holding the link-signing secret (at least 32 bytes)'),
});

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as eu-west-1');

/**
 * One watched account (issue 16 item 5): the daemon assumes `roleArn` in it (STS AssumeRole with the
 * external id) and watches `services` in each of `regions`; each (account, region) is one shard.
 */
const watchedAccountSchema = z.strictObject({
  name,
  id: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
  regions: z.array(region).min(1).max(30).describe('each region of this account is its own shard'),
  roleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'expected an IAM role ARN such as arn:aws:iam::123456789012:role/cloudops-watcher')
    .optional()
    .describe('the role assumed in this account; absent: the task\'s own credentials (the account it runs in)'),
  externalId: z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, 'expected an external id of 2-1224 characters (letters, digits, +=,.@:/-)').optional().describe('sts:ExternalId the role\'s trust policy requires'),
  services: z.union([z.literal('all'), z.array(name).min(1).max(1000)]).describe("the services this account holds, by name, or 'all'"),
  scenario: z.string().min(1).optional().describe('cloud.kind: sim only: this account\'s scenario file, relative to the policy (default: cloud.scenario)'),
});

export const policySchema = z.strictObject({
  version: z.literal(1),
  account: z.strictObject({
    name: z.string().min(1).max(100),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as eu-west-1').default('us-east-1'),
  }),
  accounts: z.array(watchedAccountSchema).min(1).max(100).optional().describe('several accounts and regions, one shard each (account, region, services); absent: `account` is the only one, with every service'),
  cloud: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('sim'),
      scenario: z.string().min(1).describe('scenario file, relative to this policy'),
      speed: z.number().positive().max(10_000).default(60).describe('virtual seconds per wall second'),
    }),
    z.strictObject({ kind: z.literal('aws') }),
  ]),
  schedule: z
    .strictObject({
      cron: z.string().default('* * * * *').describe('poll schedule on the real clock (node-cron, with seconds field optional)'),
      every: durationIn('1s', '1d').default('1m').describe('poll interval on the simulated clock'),
      window: durationIn('1m', '31d').default('1h').describe('how much history each poll reads'),
    })
    .prefault({}),
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.int().min(0).max(65535).default(8080),
      publicUrl: z.url().optional().describe('the address people reach the pages at'),
      albOidc: z
        .strictObject({
          albArn: z.string().regex(/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/app\/.+$/, 'expected an ALB ARN'),
          issuer: z.url(),
          clientId: z.string().min(1),
          allowTokens: z.boolean().default(false).describe('also accept approver tokens (bearer, web form) while OIDC is on; default false: decisions need the signed-in identity'),
        })
        .optional()
        .describe('behind an ALB with OIDC authentication: verify x-amzn-oidc-data and map its email claim to an approver'),
    })
    .prefault({}),
  store: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('sqlite'), path: z.string().default('.data/cloudops.db'), retention: storeRetention, auditRetention }),
      z.strictObject({
        kind: z.literal('dynamodb'),
        table: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'expected a DynamoDB table name (3–255 of a-z A-Z 0-9 _ . -)'),
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as eu-west-1').optional().describe('default: account.region'),
        retention: storeRetention,
        auditRetention,
      }),
    ])
    .prefault({ kind: 'sqlite' }),
  services: z.record(name, serviceSchema).refine((s) => Object.keys(s).length > 0, 'at least one service').refine((s) => Object.keys(s).length <= 1000, 'at most 1000 services'),
  metrics: z.array(metricSchema).min(1).max(10_000),
  detection: detectorConfigSchema.prefault({}).describe('defaults for every metric; a metric may override'),
  grouping: z
    .strictObject({
      groupWait: durationIn('0s', '1d').default('1m').describe('wait after the first anomaly for others of the same service'),
      groupInterval: durationIn('1s', '7d').default('5m').describe('how long a quiet incident stays open to new signals'),
      clearAfter: durationIn('0s', '1d').default('5m').describe('healthy time before a signal counts as cleared (hysteresis)'),
    })
    .prefault({}),
  correlation: z.strictObject({ lookback: durationIn('1m', '30d').default('2h') }).prefault({}),
  approvers: z.record(name, approverSchema).refine((a) => Object.keys(a).length > 0, 'at least one approver').refine((a) => Object.keys(a).length <= 1000, 'at most 1000 approvers'),
  groups: z.record(name, z.array(name).min(1).max(1000)).default({}),
  approval: z.strictObject({
    ttl: durationIn('1m', '7d').default('15m').describe('how long a request waits for its quorum (written out for cloud.kind: aws)'),
    executeWithin: durationIn('1m', '1d').default('15m').describe('an approval whose first step has not started this long after its quorum was met expires, not executed (e.g. after a restart)'),
    selfApproval: z.enum(['forbidden', 'allowed']).default('forbidden'),
    quorum: z.strictObject({ low: quorumSchema, medium: quorumSchema, high: quorumSchema }),
    reminders: z.array(durationIn('1s', '7d')).max(10).default([]).describe('each before the ttl'),
    escalation: z.strictObject({ after: durationIn('1s', '7d').describe('before the ttl'), to: z.array(z.string()).min(1).max(100) }).optional(),
  }),
  actions: z.record(z.string().regex(/^([a-z0-9]+\.[a-zA-Z0-9]+|manual)$/, 'expected service.action, e.g. codepipeline.rollback'), actionSchema),
  runbooks: z.strictObject({ dir: z.string().default('runbooks') }).prefault({}),
  execution: z
    .strictObject({
      mode: z.enum(['live', 'shadow', 'dryRun']).default('live').describe('live: run approved steps; shadow: everything but the cloud call (each step shows "would have run" with its preview; read-only IAM suffices); dryRun: preview every step and stop'),
      cooldown: durationIn('0s', '7d').default('10m').describe('no second action on the same resource (an ECS service, a pipeline stage …) within this, across incidents'),
      prices: z
        .strictObject({
          fargateVcpuHour: z.number().min(0).max(10).default(0.04048).describe('$ per vCPU-hour of a Fargate task (default: Linux/x86 on-demand, us-east-1)'),
          fargateGbHour: z.number().min(0).max(10).default(0.004445).describe('$ per GB-hour of Fargate task memory (default: Linux/x86 on-demand, us-east-1)'),
          lambdaProvisionedGbHour: z.number().min(0).max(10).default(0.015).describe('$ per GB-hour of Lambda provisioned concurrency (default: x86, us-east-1: $0.0000041667 per GB-second)'),
        })
        .prefault({})
        .describe('the prices the approval request turns a step\'s task or concurrency change into $/hour with'),
      previewTimeout: durationIn('1s', '5m').default('10s').describe('deadline of the read-only preview of each step, made when a runbook is proposed'),
      manualStepTimeout: durationIn('1m', '7d').default('1h').describe('how long a manual step waits for a person to mark it done (default 1h); then the run stops (needs_human, with notice) and a late mark is refused'),
    })
    .prefault({}),
  safety: z
    .strictObject({
      killSwitch: z.boolean().default(false).describe('true stops every execution'),
      killSwitchParameter: z.string().min(1).max(2048).nullable().optional().describe('SSM parameter whose value "on" stops every execution; null = none (written out for cloud.kind: aws)'),
      maxActionsPerHour: z.int().min(0).max(1000).default(10).describe('blast-radius budget across all incidents (written out for cloud.kind: aws)'),
    })
    .prefault({}),
  pipeline: z
    .strictObject({
      draftAttempts: z.int().min(1).max(10).default(3).describe('drafting attempts before a person is asked; the last one uses the template planner'),
      draftTimeout: duration.default('2m').describe('deadline of one drafting attempt (gathering evidence and planning)'),
      maxRedrafts: z.int().min(0).max(10).optional().describe('new versions drafted per incident after a reject with a reason or new evidence (a new deployment, a related service failing); 0 = a reject ends the request. Default: 2 when the agent drafts (an enabled agent section), 0 with templates only (an identical template re-draft would go to a person anyway)'),
      stageTimeout: duration.default('30s').describe('deadline of one stage of a cycle'),
      cycleTimeout: duration.optional().describe('deadline of one poll cycle; default: the poll interval'),
      retries: z.int().min(0).max(10).default(2).describe('retries of a retryable port error within the stage deadline'),
      retryBackoff: duration.default('200ms').describe('first retry wait (wall clock), doubled each retry'),
      readyAfterIntervals: z.number().min(1).max(100).default(3).describe('/readyz fails when the last successful cycle is older than this many poll intervals'),
      decisionTimeout: duration.default('10s').describe('a decision not recorded within this (wall clock) is refused, never acted on later'),
      shutdownGrace: duration.default('25s').describe('on SIGTERM, how long in-flight work may finish (keep below the ECS stopTimeout)'),
      leaseTtl: durationIn('1s', '10m').default('30s').describe('leader lease (real time): one process acts per store; renewed every third of it; a follower takes over only after it expired'),
    })
    .prefault({}),
  notify: z
    .strictObject({
      console: z.boolean().default(true),
      slack: slackSchema.optional(),
      sns: snsSchema.optional().describe('announcements to one topic (an ops list, a chat bridge)'),
      email: emailSchema.optional().describe('one email per approver with a signed, single-use approval link'),
    })
    .prefault({}),
  maintenance: z.array(windowSchema).max(500).default([]),
  freezes: z.array(windowSchema).max(500).default([]),
  agent: agentPolicySchema.optional().describe('the Bedrock agent that drafts runbooks; omitted = templates only'),
  mcp: mcpPolicySchema.prefault({}).describe('read-only MCP access for assistants and other agents'),
});

export type WatchedAccountDoc = z.output<typeof watchedAccountSchema>;
export type PolicyInput = z.input<typeof policySchema>;
export type PolicyDoc = z.output<typeof policySchema>;
export type DetectorConfig = z.output<typeof detectorConfigSchema>;
export { detectorConfigSchema };
