import type { AuditRecord } from '../store/store.js';

export const QUESTION_ASKED = 'question.asked';
export const QUESTION_ANSWERED = 'question.answered';
export const QUESTION_FAILED = 'question.failed';

/** One question and what became of it, read back from the audit trail (the record of truth). */
export interface QuestionThread {
  readonly questionId: string;
  readonly askedAt: number;
  readonly askedBy: string;
  readonly identity: string;
  readonly channel: string;
  readonly question: string;
  readonly status: 'answering' | 'answered' | 'failed';
  readonly answeredAt: number | null;
  readonly answer: string | null;
  readonly citations: readonly { readonly tool: string; readonly args: string; readonly status: string; readonly observation: string }[];
  readonly unverified: readonly string[];
  readonly gaps: readonly string[];
  readonly flagged: readonly { readonly tool: string; readonly excerpt: string }[];
  readonly usd: number | null;
  readonly failure: string | null;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

/** Pure: the questions asked about an incident, oldest first, with their answers. Audit data is read defensively. */
export function questionThreads(audit: readonly AuditRecord[]): QuestionThread[] {
  const threads = new Map<string, QuestionThread>();
  for (const r of audit) {
    const d = r.data;
    const id = str(d['questionId']);
    if (!id) continue;
    if (r.kind === QUESTION_ASKED) {
      threads.set(id, { questionId: id, askedAt: r.at, askedBy: r.actor, identity: str(d['identity']), channel: str(d['channel']), question: str(d['question']), status: 'answering', answeredAt: null, answer: null, citations: [], unverified: [], gaps: [], flagged: [], usd: null, failure: null });
      continue;
    }
    const t = threads.get(id);
    if (!t) continue;
    if (r.kind === QUESTION_ANSWERED) {
      threads.set(id, {
        ...t,
        status: 'answered',
        answeredAt: r.at,
        answer: str(d['answer']),
        citations: arr(d['citations']).map((c) => { const o = obj(c); return { tool: str(o['tool']), args: str(o['args']), status: str(o['status']), observation: str(o['observation']) }; }),
        unverified: arr(d['unverified']).map(str),
        gaps: arr(d['gaps']).map(str),
        flagged: arr(d['flagged']).map((f) => { const o = obj(f); return { tool: str(o['tool']), excerpt: str(o['excerpt']) }; }),
        usd: typeof d['usd'] === 'number' ? d['usd'] : null,
      });
    } else if (r.kind === QUESTION_FAILED) {
      threads.set(id, { ...t, status: 'failed', answeredAt: r.at, failure: `${str(d['reason'])}${d['detail'] ? `: ${str(d['detail'])}` : ''}` });
    }
  }
  return [...threads.values()].sort((a, b) => a.askedAt - b.askedAt);
}
