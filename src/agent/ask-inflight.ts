import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import { updateValue } from '../store/update-value.js';
import { QUESTION_ANSWERED, QUESTION_ASKED, QUESTION_FAILED } from './ask-threads.js';

/**
 * Questions being answered right now, kept in the store beside the audit trail. A question's thread
 * shows "answering" until a `question.answered` or `question.failed` record follows its
 * `question.asked`; a daemon that dies while answering writes neither, so without this ledger the
 * page would say "answering" forever. A starting daemon reads it and closes what a dead one left.
 */
export const ASK_INFLIGHT_KEY = 'agent.questions.inflight';

export interface InflightQuestion {
  readonly incidentId: string;
  /** The process answering it (a lease owner id: host/pid/pid-space/suffix). */
  readonly owner: string;
  /** Wall time (ms) by which its own deadline has cut the answer off: after it, no live owner still answers. */
  readonly deadlineAt: number;
  readonly asker: string;
  readonly channel: string;
  readonly identity: string;
}

/** `questionId` → the question in flight. */
export type InflightLedger = Readonly<Record<string, InflightQuestion>>;

export const RESTART_REASON = 'daemon restarted';
/** Past its deadline by this much, an answer's owner would have recorded it if it were alive. */
const DEADLINE_GRACE_MS = 60_000;

const ledgerOf = (v: unknown): Record<string, InflightQuestion> => (v && typeof v === 'object' && !Array.isArray(v) ? { ...(v as Record<string, InflightQuestion>) } : {});

/** Notes a question as being answered (before its `question.asked` record, so no crash can leave one unlisted). */
export async function markInflight(store: Store, questionId: string, q: InflightQuestion): Promise<void> {
  await updateValue<InflightLedger>(store, ASK_INFLIGHT_KEY, (cur) => ({ ...ledgerOf(cur), [questionId]: q }));
}

/** Removes a question once its answer (or why there is none) is recorded. */
export async function clearInflight(store: Store, questionId: string): Promise<void> {
  await updateValue<InflightLedger>(store, ASK_INFLIGHT_KEY, (cur) => {
    const next = ledgerOf(cur);
    delete next[questionId];
    return next;
  });
}

/** Pure: whether a starting daemon may close `q` as interrupted: its owner has certainly died, or its deadline is long past. */
export function interrupted(q: InflightQuestion, wallNow: number, ownerDead: (owner: string) => boolean): boolean {
  return ownerDead(q.owner) || wallNow > q.deadlineAt + DEADLINE_GRACE_MS;
}

export interface RecoveryDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly wallNow: () => number;
  readonly ownerDead: (owner: string) => boolean;
}

/**
 * On start: every question a dead daemon was answering is recorded as failed ("daemon restarted",
 * audited) and leaves the ledger. One whose answer did get recorded just leaves the ledger; one whose
 * owner may still be alive (another task on the same store) stays until its deadline has passed.
 * Returns the ids recorded as failed.
 */
export async function failInterruptedQuestions(d: RecoveryDeps): Promise<string[]> {
  const ledger = ledgerOf(await d.store.getValue<InflightLedger>(ASK_INFLIGHT_KEY));
  const failed: string[] = [];
  for (const [questionId, q] of Object.entries(ledger)) {
    if (!interrupted(q, d.wallNow(), d.ownerDead)) continue;
    const audit = await d.store.listAudit({ incidentId: q.incidentId });
    const mine = audit.filter((a) => a.data['questionId'] === questionId);
    const asked = mine.some((a) => a.kind === QUESTION_ASKED);
    const closed = mine.some((a) => a.kind === QUESTION_ANSWERED || a.kind === QUESTION_FAILED);
    if (asked && !closed) {
      await d.store.appendAudit({
        at: d.clock.now(),
        incidentId: q.incidentId,
        kind: QUESTION_FAILED,
        actor: 'agent',
        data: { questionId, channel: q.channel, askedBy: q.asker, identity: q.identity, reason: RESTART_REASON, detail: `the daemon answering it (${q.owner}) stopped before it recorded an answer; ask again` },
      });
      failed.push(questionId);
    }
    await clearInflight(d.store, questionId);
  }
  return failed;
}
