import type { ContentBlock, Message, ToolResultBlock } from '@aws-sdk/client-bedrock-runtime';
import type { TokenCounter } from './usage.js';

/**
 * The messages of one investigation, with a sliding window: once the conversation is large, older
 * tool results are replaced by a one-line summary that says they were summarized (never silently
 * dropped); the newest ones stay verbatim.
 */
export class Conversation {
  private readonly messages: Message[] = [];
  /** toolUseId → one-line summary, for results that may be summarized later. */
  private readonly summaries = new Map<string, string>();
  summarized = 0;

  constructor(briefing: string) {
    this.messages.push({ role: 'user', content: [{ text: briefing }] });
  }

  addAssistant(content: readonly ContentBlock[]): void {
    this.messages.push({ role: 'assistant', content: [...content] });
  }

  /** One user turn with every tool result of the previous assistant turn, plus optional text. */
  addToolResults(results: readonly { block: ToolResultBlock; summary: string }[], text?: string): void {
    const content: ContentBlock[] = results.map((r) => ({ toolResult: r.block }));
    for (const r of results) if (r.block.toolUseId) this.summaries.set(r.block.toolUseId, r.summary);
    if (text) content.push({ text });
    this.messages.push({ role: 'user', content });
  }

  /** Adds text for the model; joins the last user turn if there is one, since Converse wants roles to alternate. */
  addUserText(text: string): void {
    const last = this.messages[this.messages.length - 1];
    if (last?.role === 'user') last.content = [...(last.content ?? []), { text }];
    else this.messages.push({ role: 'user', content: [{ text }] });
  }

  /** The messages to send (copies; the caller may append a cache point to the last one). */
  snapshot(): Message[] {
    return this.messages.map((m) => ({ role: m.role, content: [...(m.content ?? [])] }));
  }

  /**
   * Applies the window: while the estimate exceeds `maxTokens`, the oldest verbatim tool result beyond
   * the newest `keep` is summarized. Returns how many were summarized this time.
   */
  applyWindow(count: TokenCounter, maxTokens: number, keep: number): number {
    const resultRefs: { m: number; c: number }[] = [];
    this.messages.forEach((msg, m) => msg.content?.forEach((b, c) => { if (b.toolResult && !isSummary(b.toolResult)) resultRefs.push({ m, c }); }));
    let done = 0;
    const older = resultRefs.slice(0, Math.max(0, resultRefs.length - keep));
    for (const ref of older) {
      if (count(JSON.stringify(this.messages)) <= maxTokens) break;
      const msg = this.messages[ref.m];
      const block = msg?.content?.[ref.c]?.toolResult;
      if (!msg?.content || !block) continue;
      const summary = (block.toolUseId ? this.summaries.get(block.toolUseId) : undefined) ?? 'earlier tool result';
      msg.content[ref.c] = {
        toolResult: { toolUseId: block.toolUseId, status: block.status, content: [{ text: `[summarized to save context; ask again if you need it] ${summary}` }] },
      };
      done++;
    }
    this.summarized += done;
    return done;
  }
}

function isSummary(b: ToolResultBlock): boolean {
  const first = b.content?.[0];
  return first !== undefined && 'text' in first && typeof first.text === 'string' && first.text.startsWith('[summarized');
}
