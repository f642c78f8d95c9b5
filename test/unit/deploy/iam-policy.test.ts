import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * iam-policy.json must grant exactly the IAM actions the code calls: every SDK command constructed
 * under src/ needs its action, and every action granted must be used by some command.
 */

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** IAM prefix per SDK client package. */
const PREFIX: Record<string, string> = {
  'client-cloudwatch': 'cloudwatch',
  'client-cloudwatch-logs': 'logs',
  'client-codepipeline': 'codepipeline',
  'client-sns': 'sns',
  'client-ecs': 'ecs',
  'client-ssm': 'ssm',
  'client-lambda': 'lambda',
  'client-dynamodb': 'dynamodb',
  'client-bedrock-runtime': 'bedrock',
  'client-sts': 'sts',
  'client-secrets-manager': 'secretsmanager',
};

/** Commands whose IAM action is not named like the API (Service Authorization Reference). */
const ACTION_OF: Record<string, string | readonly string[]> = {
  'bedrock:Converse': 'bedrock:InvokeModel',
  'bedrock:ConverseStream': 'bedrock:InvokeModelWithResponseStream',
  // A transaction is authorised item by item: the action of each kind of item it may carry.
  'dynamodb:TransactWriteItems': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
};

/** Actions a command needs besides its own when given certain parameters (StartAutomationExecution with Tags). */
const IMPLIED: Record<string, readonly string[]> = {
  'ssm:StartAutomationExecution': ['ssm:AddTagsToResource'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** `new XCommand(` in a file, resolved to the client package it was imported from. */
export function commandsIn(text: string, file = '?'): string[] {
  // local name → [package, exported command name]
  const imported = new Map<string, [string, string]>();
  for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/(client-[a-z0-9-]+)'/g)) {
    for (const raw of m[1]!.split(',')) {
      const [original = '', local = original] = raw.trim().replace(/^type\s+/, '').split(/\s+as\s+/).map((x) => x.trim());
      if (original.endsWith('Command')) imported.set(local, [m[2]!, original]);
    }
  }
  if (/import\s+\*\s+as\s+\w+\s+from\s*'@aws-sdk\/client-/.test(text)) throw new Error(`${file}: namespace imports of AWS SDK clients hide the commands from this check; import commands by name`);
  const out: string[] = [];
  for (const m of text.matchAll(/new\s+([A-Z][A-Za-z0-9]*)\s*\(/g)) {
    const hit = imported.get(m[1]!);
    if (hit === undefined) continue; // not an AWS SDK command (e.g. commander's Command)
    const [pkg, command] = hit;
    const prefix = PREFIX[pkg];
    if (prefix === undefined) throw new Error(`${file}: no IAM prefix known for @aws-sdk/${pkg}; add it to this test`);
    const action = `${prefix}:${command.replace(/Command$/, '')}`;
    out.push(...[ACTION_OF[action] ?? action].flat(), ...(IMPLIED[action] ?? []));
  }
  return out;
}

function policyActions(): string[] {
  const doc = JSON.parse(readFileSync(join(ROOT, 'iam-policy.json'), 'utf8')) as { Version: string; Statement: { Effect: string; Action: string | string[] }[] };
  expect(doc.Version).toBe('2012-10-17');
  return doc.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

describe('iam-policy.json', () => {
  const used = new Set(sourceFiles(join(ROOT, 'src')).flatMap((f) => commandsIn(readFileSync(f, 'utf8'), f)));
  const granted = policyActions();

  it('finds the SDK commands the adapters construct (the scan itself works)', () => {
    expect(used).toContain('cloudwatch:GetMetricData');
    expect(used).toContain('logs:StartQuery');
    expect(used).toContain('codepipeline:ListPipelineExecutions');
  });

  it('grants every IAM action the code calls', () => {
    const missing = [...used].filter((a) => !granted.includes(a)).sort();
    expect(missing, `add these to iam-policy.json`).toEqual([]);
  });

  it('grants no action that nothing under src/ uses, and no wildcard actions', () => {
    const unused = granted.filter((a) => !used.has(a)).sort();
    expect(unused, `remove these from iam-policy.json`).toEqual([]);
    expect(granted.filter((a) => a.includes('*'))).toEqual([]);
    expect(new Set(granted).size).toBe(granted.length);
  });

  it('maps commands through imports, aliases and IAM names that differ from the API', () => {
    const text = "import { ConverseCommand, type X } from '@aws-sdk/client-bedrock-runtime';\nimport { PublishCommand as Pub } from '@aws-sdk/client-sns';\nnew ConverseCommand({}); new Pub({});";
    expect(commandsIn(text)).toEqual(['bedrock:InvokeModel', 'sns:Publish']);
  });
});
