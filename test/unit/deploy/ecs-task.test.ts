import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const text = readFileSync(join(ROOT, 'ecs-task.json'), 'utf8');

interface Container {
  name: string;
  readonlyRootFilesystem?: boolean;
  stopTimeout?: number;
  user?: string;
  linuxParameters?: { initProcessEnabled?: boolean };
  healthCheck?: { command: string[]; interval?: number; timeout?: number; retries?: number; startPeriod?: number };
  logConfiguration?: { logDriver: string; options: Record<string, string> };
  secrets?: { name: string; valueFrom: string }[];
  mountPoints?: { sourceVolume: string; containerPath: string; readOnly?: boolean }[];
  environment?: { name: string; value: string }[];
}
const task = JSON.parse(text) as { requiresCompatibilities: string[]; cpu: string; memory: string; networkMode: string; taskRoleArn: string; executionRoleArn: string; volumes: { name: string }[]; containerDefinitions: Container[] };
const c = task.containerDefinitions[0]!;

describe('ecs-task.json', () => {
  it('type-checks as the ECS SDK RegisterTaskDefinition input (no unknown keys, valid enum values)', () => {
    // An object literal gets excess-property and literal-type checks that a JSON import would not.
    const file = join(ROOT, 'test', 'unit', 'deploy', '__ecs_task_check.ts');
    const source = `import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';\nexport const task: RegisterTaskDefinitionCommandInput = ${text};\n`;
    const options: ts.CompilerOptions = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    host.readFile = (f) => (f === file ? source : read(f));
    const exists = host.fileExists.bind(host);
    host.fileExists = (f) => f === file || exists(f);
    const getSource = host.getSourceFile.bind(host);
    host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, source, lang) : getSource(f, lang, ...rest));
    const program = ts.createProgram([file], options, host);
    const messages = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(messages).toEqual([]);
  });

  it('is the smallest Fargate task, 0.25 vCPU and 0.5 GB, with a task role and an execution role', () => {
    expect(task.requiresCompatibilities).toEqual(['FARGATE']);
    expect(task.networkMode).toBe('awsvpc');
    expect([task.cpu, task.memory]).toEqual(['256', '512']);
    expect(task.taskRoleArn).toMatch(/^arn:aws:iam::\d{12}:role\//);
    expect(task.executionRoleArn).toMatch(/^arn:aws:iam::\d{12}:role\//);
    expect(task.taskRoleArn).not.toBe(task.executionRoleArn);
  });

  it('runs read-only as a non-root user, with writable /tmp and data volumes only', () => {
    expect(c.readonlyRootFilesystem).toBe(true);
    expect(c.user).toBe('1000:1000');
    expect(c.mountPoints!.map((m) => m.containerPath).sort()).toEqual(['/data', '/tmp']);
    expect(c.mountPoints!.every((m) => task.volumes.some((v) => v.name === m.sourceVolume))).toBe(true);
  });

  it('stops gracefully: SIGTERM forwarded by an init process, 120 s before SIGKILL', () => {
    expect(c.stopTimeout).toBe(120);
    expect(c.linuxParameters?.initProcessEnabled).toBe(true);
  });

  it('checks /healthz with a command the slim image can run (no curl), within ECS limits', () => {
    const h = c.healthCheck!;
    expect(h.command[0]).toBe('CMD');
    expect(h.command.join(' ')).toContain('/healthz');
    expect(h.command).not.toContain('curl');
    expect(h.interval).toBeGreaterThanOrEqual(5);
    expect(h.timeout).toBeGreaterThanOrEqual(2);
    expect(h.retries).toBeLessThanOrEqual(10);
    expect(h.startPeriod).toBeLessThanOrEqual(300);
  });

  it('logs with awslogs in non-blocking mode, with the stream prefix Fargate requires', () => {
    expect(c.logConfiguration).toMatchObject({ logDriver: 'awslogs', options: { mode: 'non-blocking', 'awslogs-stream-prefix': expect.any(String), 'awslogs-group': expect.any(String), 'awslogs-region': expect.any(String) } });
  });

  it('takes the Slack and link-signing secrets from Secrets Manager, never from plain environment values', () => {
    expect(c.secrets!.map((s) => s.name).sort()).toEqual(['CLOUDOPS_LINK_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET']);
    expect(c.secrets!.every((s) => s.valueFrom.startsWith('arn:aws:secretsmanager:'))).toBe(true);
    expect((c.environment ?? []).filter((e) => /TOKEN|SECRET|PASSWORD/i.test(e.name))).toEqual([]);
  });
});
