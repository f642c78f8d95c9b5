import type { ConverseCommandInput, Message, SystemContentBlock, Tool, ToolChoice } from '@aws-sdk/client-bedrock-runtime';
import type { TokenCounter } from './usage.js';

export interface RequestParts {
  readonly modelId: string;
  readonly system: string;
  readonly tools: readonly { name: string; description: string; schema: Record<string, unknown> }[];
  readonly messages: readonly Message[];
  readonly maxTokens: number;
  /** Force this tool (the final step, triage); otherwise the model chooses. */
  readonly forceTool?: string;
  /** The model's minimum prefix for a cache checkpoint; 0 = never cache. */
  readonly cacheMinTokens: number;
  readonly guardrail: { readonly id: string; readonly version: string } | null;
}

export interface BuiltRequest {
  readonly input: ConverseCommandInput;
  /** Estimated prompt tokens (system + tools + messages). */
  readonly estimatedInputTokens: number;
  readonly cachePoints: { readonly tools: boolean; readonly system: boolean; readonly messages: boolean };
  /** Estimated prompt tokens up to each checkpoint position (what the cache minimum is compared with). */
  readonly prefixTokens: { readonly tools: number; readonly system: number; readonly messages: number };
}

const CACHE = { cachePoint: { type: 'default' as const } };

/**
 * One Converse request. Cache checkpoints go after the tools, after the system prompt and after the
 * newest message, each only where the prefix up to it reaches the model's minimum: below it Bedrock
 * accepts the checkpoint but caches nothing, and the block is noise.
 */
export function buildRequest(p: RequestParts, count: TokenCounter): BuiltRequest {
  const toolSpecs: Tool[] = p.tools.map((t) => ({ toolSpec: { name: t.name, description: t.description, inputSchema: { json: t.schema as never } } }));
  const toolTokens = count(JSON.stringify(toolSpecs));
  const systemTokens = count(p.system);
  const messageTokens = count(JSON.stringify(p.messages));
  const min = p.cacheMinTokens;
  const cachePoints = {
    tools: min > 0 && toolTokens >= min,
    system: min > 0 && toolTokens + systemTokens >= min,
    messages: min > 0 && toolTokens + systemTokens + messageTokens >= min,
  };
  const system: SystemContentBlock[] = [{ text: p.system }];
  if (cachePoints.system) system.push(CACHE);
  const tools: Tool[] = [...toolSpecs];
  if (cachePoints.tools) tools.push(CACHE);
  const messages = p.messages.map((m) => ({ role: m.role, content: [...(m.content ?? [])] }));
  const last = messages[messages.length - 1];
  if (cachePoints.messages && last && last.role === 'user') last.content.push(CACHE);
  const toolChoice: ToolChoice = p.forceTool ? { tool: { name: p.forceTool } } : { auto: {} };
  const input: ConverseCommandInput = {
    modelId: p.modelId,
    system,
    messages,
    // Temperature only: Claude 4.5+ rejects temperature together with topP.
    inferenceConfig: { maxTokens: p.maxTokens, temperature: 0 },
    toolConfig: { tools, toolChoice },
    ...(p.guardrail ? { guardrailConfig: { guardrailIdentifier: p.guardrail.id, guardrailVersion: p.guardrail.version, trace: 'enabled' as const } } : {}),
  };
  return { input, estimatedInputTokens: toolTokens + systemTokens + messageTokens, cachePoints, prefixTokens: { tools: toolTokens, system: toolTokens + systemTokens, messages: toolTokens + systemTokens + messageTokens } };
}
