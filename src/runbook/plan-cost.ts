import type { PlanTrace } from './planner.js';

/**
 * What drafting cost, in one line a person reads on the page, in `show` and in the decision record:
 * "agent (model-id): 13,853 input tokens (8,340 from cache, 1,200 written to it) + 375 output, $0.0304".
 * Null for a planner that called no model. Pure.
 */
export function planCostLine(plan: PlanTrace | undefined | null): string | null {
  if (!plan) return null;
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  const who = `${plan.planner}${plan.modelId ? ` (${plan.modelId})` : ''}`;
  const s = plan.spend;
  if (s) {
    const cache = [s.cacheRead > 0 ? `${n(s.cacheRead)} from cache` : '', s.cacheWrite > 0 ? `${n(s.cacheWrite)} written to it` : ''].filter(Boolean).join(', ');
    const guard = s.guardrailUnits > 0 ? `, ${n(s.guardrailUnits)} guardrail text units` : '';
    return `${who}: ${n(s.input + s.cacheRead + s.cacheWrite)} input tokens${cache ? ` (${cache})` : ''} + ${n(s.output)} output${guard}, $${s.usd.toFixed(4)}`;
  }
  if (plan.tokens) return `${who}: ${n(plan.tokens.input)} input tokens + ${n(plan.tokens.output)} output`;
  return null;
}
