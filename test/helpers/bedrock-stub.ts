import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBedrockClient } from '../../src/agent/bedrock-client.js';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';

/** One Converse request as the stub received it: the model id from the path, the parsed JSON body, and when (performance.now(), ms). */
export interface ConverseCall {
  readonly modelId: string;
  readonly body: any;
  readonly receivedAt: number;
}

export interface GuardrailCall {
  readonly guardrailId: string;
  readonly version: string;
  readonly body: any;
}

/** A scripted answer: a model turn, or a Bedrock error with its HTTP status and error type. */
export type ScriptedReply =
  | { readonly kind: 'turn'; readonly content: unknown[]; readonly stopReason: string; readonly usage: Usage; readonly delayMs?: number }
  | { readonly kind: 'error'; readonly status: number; readonly type: string; readonly message: string };

export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadInputTokens?: number;
  readonly cacheWriteInputTokens?: number;
}

/** A turn is either fixed or computed from the request (to echo ids the tools returned, say). */
export type Script = ScriptedReply | ((call: ConverseCall) => ScriptedReply);

const DEFAULT_USAGE: Usage = { inputTokens: 1000, outputTokens: 100 };

export const toolUse = (name: string, input: unknown, id = `tu-${name}-${Math.random().toString(36).slice(2, 8)}`): unknown => ({ toolUse: { toolUseId: id, name, input } });
export const text = (t: string): unknown => ({ text: t });
export const turn = (content: unknown[], stopReason = 'tool_use', usage: Usage = DEFAULT_USAGE, delayMs?: number): ScriptedReply => ({ kind: 'turn', content, stopReason, usage, ...(delayMs ? { delayMs } : {}) });
export const bedrockError = (status: number, type: string, message = type): ScriptedReply => ({ kind: 'error', status, type, message });

/**
 * A local HTTP/1.1 server speaking Bedrock Runtime's REST/JSON protocol: `POST /model/{modelId}/converse`
 * answers the next scripted turn (or error, with `x-amzn-errortype`), and
 * `POST /guardrail/{id}/version/{v}/apply` answers through `guardrail` (default: no intervention).
 * The real SDK client serializes the requests and parses the answers.
 */
export class BedrockStub {
  readonly calls: ConverseCall[] = [];
  readonly guardrailCalls: GuardrailCall[] = [];
  /** Scripts per model id; a model without one answers from `fallbackScript`. */
  private readonly scripts = new Map<string, Script[]>();
  guardrail: (text: string) => { action: 'NONE' | 'GUARDRAIL_INTERVENED'; reason?: string } = () => ({ action: 'NONE' });
  private server: Server | null = null;
  url = '';

  script(modelId: string, ...replies: Script[]): this {
    this.scripts.set(modelId, [...(this.scripts.get(modelId) ?? []), ...replies]);
    return this;
  }

  /** Drops every scripted turn not yet used. */
  clearScripts(): void {
    this.scripts.clear();
  }

  remaining(modelId: string): number {
    return this.scripts.get(modelId)?.length ?? 0;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const receivedAt = performance.now();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        const send = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
          res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': `req-${this.calls.length}`, ...headers });
          res.end(JSON.stringify(value));
        };
        const g = /^\/guardrail\/(.+)\/version\/([^/]+)\/apply$/.exec(path);
        if (req.method === 'POST' && g) {
          this.guardrailCalls.push({ guardrailId: g[1] ?? '', version: g[2] ?? '', body });
          const txt = (body.content ?? []).map((c: any) => c.text?.text ?? '').join('\n');
          const v = this.guardrail(txt);
          // Billed like Bedrock: one text unit per started 1,000 characters, per configured policy (content and topics here).
          const units = Math.max(1, Math.ceil(txt.length / 1000));
          return send(200, { action: v.action, actionReason: v.reason ?? (v.action === 'NONE' ? 'No action.' : 'Guardrail blocked.'), outputs: [], assessments: [], usage: { topicPolicyUnits: units, contentPolicyUnits: units, wordPolicyUnits: 0, sensitiveInformationPolicyUnits: 0, sensitiveInformationPolicyFreeUnits: 0, contextualGroundingPolicyUnits: 0 } });
        }
        const m = /^\/model\/(.+)\/converse$/.exec(path);
        if (req.method !== 'POST' || !m) return send(404, { message: `no route ${req.method} ${path}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
        const call: ConverseCall = { modelId: m[1] ?? '', body, receivedAt };
        this.calls.push(call);
        const next = this.scripts.get(call.modelId)?.shift();
        if (!next) return send(400, { message: `the stub has no scripted turn left for ${call.modelId}` }, { 'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/' });
        const reply = typeof next === 'function' ? next(call) : next;
        if (reply.kind === 'error') return send(reply.status, { message: reply.message }, { 'x-amzn-errortype': `${reply.type}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
        const answer = (): void =>
          send(200, {
            output: { message: { role: 'assistant', content: reply.content } },
            stopReason: reply.stopReason,
            usage: { ...reply.usage, totalTokens: reply.usage.inputTokens + reply.usage.outputTokens + (reply.usage.cacheReadInputTokens ?? 0) + (reply.usage.cacheWriteInputTokens ?? 0) },
            metrics: { latencyMs: reply.delayMs ?? 5 },
          });
        if (reply.delayMs) setTimeout(answer, reply.delayMs);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
    return this;
  }

  /** A real SDK client pointed at this stub (HTTP/1.1, request timeout that throws). */
  client(requestTimeoutMs = 5_000): BedrockRuntimeClient {
    return createBedrockClient({ region: 'us-east-1', endpoint: this.url, requestTimeoutMs, credentials: { accessKeyId: 'AKIDSTUBSTUBSTUB', secretAccessKey: 'stub-secret' } });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
