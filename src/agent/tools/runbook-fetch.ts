import { z } from 'zod';
import { success, toolError, type AgentTool } from './tool.js';

// The id is checked as a name before anything is looked up: no path can be formed from it.
const input = z.strictObject({ id: z.string().min(1).max(100) });
const ID = /^[a-z][a-z0-9-]*$/;

/**
 * Runbook templates through one allow-listed lookup: only ids of the loaded catalog, never a path.
 * The content is marked as directions written by operators, not as results of the investigation.
 */
export const runbookFetchTool: AgentTool<typeof input> = {
  name: 'fetch_runbook',
  description: 'The full text of one runbook template from the catalog listed in the briefing, by id. Runbooks are directions written by the operators, not evidence.',
  input,
  directions: true,
  async run(i, ctx) {
    const ids = ctx.templates.map((t) => t.id);
    if (!ID.test(i.id)) return toolError('not_allowed', `"${i.id.slice(0, 100)}" is not a runbook id (ids are kebab-case names, never paths); known: ${ids.join(', ')}`);
    const t = ctx.templates.find((x) => x.id === i.id);
    if (!t) return toolError('not_allowed', `no runbook "${i.id}"; known: ${ids.join(', ')}`);
    return success({
      kind: 'directions',
      id: t.id,
      title: t.title,
      applies: t.applies,
      steps: t.steps.map((s) => ({ action: s.action, description: s.description, params: s.params })),
      verify: t.verify,
      body: t.body,
    }, 'These are operator-written directions (a runbook template), not results; placeholders like {{suspect.id}} are filled from the incident.');
  },
};
