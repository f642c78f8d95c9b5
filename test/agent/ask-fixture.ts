import { agentPolicySchema } from '../../src/agent/agent-policy.js';
import { sha256Hex } from '../../src/approval/approver-tokens.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { DRAFT } from './agent-fixture.js';

export const READER_TOKEN = 'reader-token-assistant-0123456789';

/** The demo policy with the agent on (Bedrock at the stub) and one MCP reader. */
export function withAgent(p: CompiledPolicy, endpoint: string, over: Record<string, unknown> = {}): CompiledPolicy {
  const agent = agentPolicySchema.parse({ draftModel: DRAFT, endpoint, models: { [DRAFT]: { inputPerMTok: 3, outputPerMTok: 15, cacheMinTokens: 1024 } }, retryBase: '1ms', ...over });
  return { ...p, doc: { ...p.doc, agent, mcp: { ...p.doc.mcp, readers: { assistant: { tokenSha256: sha256Hex(READER_TOKEN) } } } } };
}

