import type { ContentBlock, ConverseCommandOutput, ToolUseBlock } from '@aws-sdk/client-bedrock-runtime';
import { AgentError } from './errors.js';
import { parseProposal, PROPOSE_TOOL, type Proposal } from './proposal.js';

/** What one model turn means for the loop. */
export type TurnOutcome =
  | { readonly kind: 'proposal'; readonly proposal: Proposal; readonly use: ToolUseBlock }
  | { readonly kind: 'invalid'; readonly issues: readonly string[]; readonly use: ToolUseBlock | null }
  | { readonly kind: 'tools'; readonly uses: readonly ToolUseBlock[] }
  | { readonly kind: 'no_answer'; readonly text: string };

/**
 * Pure: classifies a Converse response. A guardrail intervention or a context overflow ends the run
 * (thrown as AgentError); a `propose_runbook` call is the answer, valid or not; other tool calls
 * continue the investigation; text alone is a turn without an answer.
 */
export function classifyTurn(out: ConverseCommandOutput): TurnOutcome {
  const stop = out.stopReason;
  if (stop === 'guardrail_intervened' || stop === 'content_filtered') throw new AgentError('guardrail', `the model's answer was blocked (${stop})`);
  if (stop === 'model_context_window_exceeded') throw new AgentError('budget', 'the conversation exceeded the model context window');
  const content: ContentBlock[] = out.output?.message?.content ?? [];
  const uses = content.flatMap((b) => (b.toolUse ? [b.toolUse] : []));
  const propose = uses.find((u) => u.name === PROPOSE_TOOL);
  if (propose) {
    const parsed = parseProposal(propose.input);
    return parsed.ok ? { kind: 'proposal', proposal: parsed.proposal, use: propose } : { kind: 'invalid', issues: parsed.issues, use: propose };
  }
  if (stop === 'malformed_tool_use' || stop === 'malformed_model_output') return { kind: 'invalid', issues: [`the model output was malformed (${stop})`], use: null };
  if (uses.length > 0) return { kind: 'tools', uses };
  const text = content.flatMap((b) => (b.text ? [b.text] : [])).join('\n');
  return { kind: 'no_answer', text: text.slice(0, 500) };
}
