import type { ToolResultBlock, ToolUseBlock } from '@aws-sdk/client-bedrock-runtime';
import { errorMessage } from '../core/errors.js';
import type { ModelPort } from './model.js';
import type { AgentTool, ToolContext, ToolEnvelope } from './tools/tool.js';
import { toolError } from './tools/tool.js';
import { fence, sanitizeValue, scrub, type FlaggedText } from './untrusted.js';
import { canonicalJson } from '../runbook/runbook.js';
import { guardrailCost, NO_GUARDRAIL_SPEND, worstGuardrailCost, type GuardrailPrices, type GuardrailSpend } from './guardrail-cost.js';

/** What the audit record keeps of one tool call. */
export interface ToolCallRecord {
  readonly step: number;
  readonly name: string;
  /** The arguments as the model sent them, redacted, at most 500 characters. */
  readonly args: string;
  readonly status: ToolEnvelope['status'];
  /** Characters of the fenced result the model received. */
  readonly resultChars: number;
  readonly capped: boolean;
  readonly flagged: number;
  readonly guardrail?: 'intervened' | 'unavailable' | 'budget_cut';
  readonly errorKind?: string;
}

export interface DispatchOptions {
  readonly maxChars: number;
  readonly redactPatterns: readonly RegExp[];
  readonly guardrail: { readonly id: string; readonly version: string; readonly prices: GuardrailPrices } | null;
  readonly model: ModelPort;
  /** Asked before a result is screened, with its worst-case cost; a refusal withholds the result (fail closed). */
  readonly admitGuardrail?: (worst: GuardrailSpend) => { readonly admit: true } | { readonly admit: false; readonly reason: string };
}

export interface Dispatched {
  readonly block: ToolResultBlock;
  /** A one-line stand-in for the sliding window. */
  readonly summary: string;
  readonly record: ToolCallRecord;
  readonly flags: readonly FlaggedText[];
  /** Ids the result showed the model (see ToolEnvelope.refs). */
  readonly refs: readonly string[];
  /** Set when the call could not check something: an investigation gap. */
  readonly gap?: { readonly what: string; readonly why: 'tool_error' | 'missing_permission' | 'no_data' | 'budget_cut' | 'other'; readonly detail: string };
  /** What screening the result with ApplyGuardrail cost (nothing without a guardrail). */
  readonly guardrailSpend: GuardrailSpend;
}

/** Runs a tool; any throw becomes an error envelope, so the loop never sees an exception from a tool. */
async function runSafely(tool: AgentTool, raw: unknown, ctx: ToolContext): Promise<ToolEnvelope> {
  const parsed = tool.input.safeParse(raw ?? {});
  if (!parsed.success) {
    return toolError('invalid_input', `invalid input for ${tool.name}: ${parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
  }
  try {
    return await tool.run(parsed.data, ctx);
  } catch (err) {
    return toolError('tool_error', `${tool.name} failed: ${errorMessage(err).slice(0, 300)}`);
  }
}

type Screened = { ok: true; spend: GuardrailSpend } | { ok: false; why: 'intervened' | 'unavailable' | 'budget'; detail: string; spend: GuardrailSpend };

/**
 * Screens clean tool text with ApplyGuardrail (Converse guardrails do not look at tool results), when
 * its worst-case cost fits the budget, and says what it cost: billed per text unit, not per token.
 */
async function screen(text: string, o: DispatchOptions, signal: AbortSignal): Promise<Screened> {
  if (!o.guardrail) return { ok: true, spend: NO_GUARDRAIL_SPEND };
  const admitted = o.admitGuardrail?.(worstGuardrailCost(text.length, o.guardrail.prices)) ?? { admit: true };
  // Fail closed: a result that cannot be screened within the budget does not reach the model.
  if (!admitted.admit) return { ok: false, why: 'budget', detail: admitted.reason, spend: NO_GUARDRAIL_SPEND };
  try {
    const r = await o.model.applyGuardrail({ guardrailIdentifier: o.guardrail.id, guardrailVersion: o.guardrail.version, source: 'INPUT', content: [{ text: { text } }] }, signal);
    const spend = guardrailCost(r.usage, o.guardrail.prices);
    if (r.action === 'GUARDRAIL_INTERVENED') return { ok: false, why: 'intervened', detail: r.actionReason ?? 'the guardrail intervened', spend };
    return { ok: true, spend };
  } catch (err) {
    // Fail closed: a result the guardrail could not screen does not reach the model.
    return { ok: false, why: 'unavailable', detail: errorMessage(err).slice(0, 200), spend: NO_GUARDRAIL_SPEND };
  }
}

/**
 * Executes one toolUse block from the model: looks the tool up among those offered, runs it, caps,
 * sanitizes, screens and fences the result. Never throws for anything the tool or its data does.
 */
export async function dispatchTool(use: ToolUseBlock, offered: ReadonlyMap<string, AgentTool>, ctx: ToolContext, step: number, o: DispatchOptions): Promise<Dispatched> {
  const name = use.name ?? '(unnamed)';
  const id = use.toolUseId ?? '';
  const tool = offered.get(name);
  const envelope = tool ? await runSafely(tool, use.input, ctx) : toolError('unknown_tool', `no tool "${name.slice(0, 100)}" is offered; you can only use: ${[...offered.keys()].join(', ')}`);

  const refs = envelope.status === 'success' ? (envelope.refs ?? []) : [];
  const visible = envelope.status === 'success' ? { status: envelope.status, data: envelope.data, ...(envelope.note ? { note: envelope.note } : {}) } : envelope;
  // Untrusted data first: redact secrets and defuse instructions, then measure. Runbook templates too:
  // they are operator directions, but a file anyone with write access to the catalog can change, and
  // no text from a tool may address the model as if it had authority.
  const clean = sanitizeValue(visible, o.redactPatterns);
  let body = JSON.stringify(clean.value);
  let capped = false;
  if (body.length > o.maxChars) {
    capped = true;
    body = JSON.stringify({ status: 'error', kind: 'too_large', message: `the result has ${body.length} characters, over the limit of ${o.maxChars}: narrow the query (shorter range, a filter, a lower limit) and ask again` });
  }
  const flags: FlaggedText[] = clean.flags.map((f) => ({ ...f, tool: name, toolUseId: id }));
  const screened = await screen(body, o, ctx.signal);
  if (!screened.ok) {
    body = JSON.stringify({ status: 'error', kind: 'withheld', message: `the result was withheld by the content guardrail (${screened.why}); do not rely on it` });
    flags.push({ tool: name, toolUseId: id, excerpt: `result withheld: ${screened.detail}`, rule: `guardrail-${screened.why}` });
  }
  const status = capped || !screened.ok ? 'error' : envelope.status;
  const text = tool?.directions ? fence(`${name} (operator directions, not results)`, body) : fence(name, body);
  const block: ToolResultBlock = { toolUseId: id, content: [{ text }], status: status === 'error' ? 'error' : 'success' };
  const args = scrub(canonicalJson(use.input ?? {}), o.redactPatterns).slice(0, 500);
  const record: ToolCallRecord = {
    step,
    name,
    args,
    status,
    resultChars: text.length,
    capped,
    flagged: flags.length,
    ...(screened.ok ? {} : { guardrail: screened.why === 'budget' ? 'budget_cut' : screened.why }),
    ...(envelope.status === 'error' ? { errorKind: envelope.kind } : {}),
  };
  const summary = `${name}(${args.slice(0, 120)}) → ${status}${envelope.status === 'error' ? `: ${envelope.message.slice(0, 160)}` : envelope.status === 'no_data' ? `: ${envelope.message.slice(0, 160)}` : `, ${body.length} characters`}`;
  const gap = envelope.status === 'error' && (envelope.kind === 'tool_error' || envelope.kind === 'missing_permission')
    ? { what: `${name}(${args.slice(0, 120)})`, why: envelope.kind, detail: envelope.message.slice(0, 300) }
    : !screened.ok
      ? { what: `${name}(${args.slice(0, 120)})`, why: screened.why === 'budget' ? ('budget_cut' as const) : ('other' as const), detail: `result withheld by the guardrail: ${screened.detail}` }
      : undefined;
  return { block, summary, record, flags, refs, guardrailSpend: screened.spend, ...(gap ? { gap } : {}) };
}
