import { z } from 'zod';

/**
 * What the model answers with, through the `propose_runbook` tool. The tool's input schema is generated
 * from this zod schema, and the answer is parsed with it: one source for what the model is told and
 * what is accepted.
 */

const paramValue = z.union([z.string().max(1024), z.number(), z.boolean()]);

export const evidenceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('metric'), metricId: z.string().min(1).max(255), observation: z.string().min(1).max(500) }),
  z.strictObject({
    kind: z.literal('log'),
    logGroups: z.array(z.string().min(1).max(512)).min(1).max(10),
    filter: z.string().max(200).optional(),
    minutesBefore: z.int().min(0).max(120).default(15),
    minutesAfter: z.int().min(0).max(120).default(15),
    observation: z.string().min(1).max(500),
  }),
  z.strictObject({ kind: z.literal('deployment'), deploymentId: z.string().min(1).max(200), observation: z.string().min(1).max(500) }),
]);

export const gapSchema = z.strictObject({
  what: z.string().min(1).max(300).describe('what could not be checked'),
  why: z.enum(['tool_error', 'missing_permission', 'budget_cut', 'no_data', 'out_of_scope', 'other']),
  detail: z.string().max(500).optional(),
});

export const proposalSchema = z.strictObject({
  decision: z.enum(['runbook', 'no_safe_action']).describe('no_safe_action when no allow-listed step is safe; a person takes over'),
  hypothesis: z.string().min(1).max(2000).describe('what most likely went wrong, in plain words'),
  confidence: z.number().min(0).max(1),
  title: z.string().min(1).max(200).optional().describe('runbook title (decision runbook)'),
  steps: z
    .array(
      z.strictObject({
        action: z.string().min(1).max(100).describe('an allow-listed action name'),
        params: z.record(z.string().min(1).max(100), paramValue),
        description: z.string().min(1).max(500).describe('what the step does, for the approver'),
        evidence: z.array(evidenceSchema).max(5).default([]).describe('what this step rests on'),
      }),
    )
    .max(10)
    .default([]),
  verification: z
    .strictObject({
      description: z.string().min(1).max(500).describe('how recovery is recognized'),
      within: z.string().regex(/^\d+(s|m|h)$/, 'expected a duration such as 10m').default('10m'),
      healthyPolls: z.int().min(1).max(60).default(3),
    })
    .optional(),
  gaps: z.array(gapSchema).max(20).default([]).describe('what you could not check and why'),
  noSafeActionReasons: z.array(z.string().min(1).max(500)).max(10).default([]),
});

export type Proposal = z.output<typeof proposalSchema>;
export type Evidence = z.output<typeof evidenceSchema>;
export type Gap = z.output<typeof gapSchema>;

export const PROPOSE_TOOL = 'propose_runbook';

/** The JSON Schema the model sees for `propose_runbook`'s input. */
export function proposalJsonSchema(): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(proposalSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return schema;
}

/** Parses the model's answer; on failure, the issues as lines the model can act on in a repair turn. */
export function parseProposal(input: unknown): { ok: true; proposal: Proposal } | { ok: false; issues: string[] } {
  const r = proposalSchema.safeParse(input);
  if (r.success) {
    if (r.data.decision === 'runbook' && r.data.steps.length === 0) return { ok: false, issues: ['steps: a runbook needs at least one step (or decision "no_safe_action" with reasons)'] };
    if (r.data.decision === 'no_safe_action' && r.data.noSafeActionReasons.length === 0) return { ok: false, issues: ['noSafeActionReasons: say why no step is safe'] };
    return { ok: true, proposal: r.data };
  }
  return { ok: false, issues: r.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`) };
}
