import type { CompiledPolicy } from '../policy/compile.js';

/** Whether questions are taken under this policy, and why not. Pure. */
export type AskAvailability = { readonly on: true } | { readonly on: false; readonly reason: string };

export function askAvailability(policy: CompiledPolicy): AskAvailability {
  const a = policy.doc.agent;
  if (!a) return { on: false, reason: 'the agent is not configured (no agent section in the policy: runbooks come from the templates, and no Bedrock model is set up to answer questions)' };
  if (!a.enabled) return { on: false, reason: 'the agent is off (agent.enabled: false): runbooks come from the templates and questions are not answered' };
  if (!a.ask.enabled) return { on: false, reason: 'questions to the agent are off (agent.ask.enabled: false)' };
  return { on: true };
}

