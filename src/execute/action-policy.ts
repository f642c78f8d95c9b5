import type { ActionCall } from '../cloud/ports.js';
import type { PolicyDoc } from '../policy/schema.js';

export type ActionAllowList = PolicyDoc['actions'];

/** Why a concrete action call is outside the policy's allow-list, or null when it is inside. */
export function actionViolation(allow: ActionAllowList, call: ActionCall): string | null {
  const rule = allow[call.action];
  if (!rule) return `action "${call.action}" is not allow-listed`;
  for (const key of Object.keys(call.params)) {
    if (!(key in rule.params)) return `parameter "${key}" is not allowed for ${call.action}`;
  }
  for (const [key, p] of Object.entries(rule.params)) {
    const value = call.params[key];
    if (value === undefined) {
      if (p.required) return `parameter "${key}" is required for ${call.action}`;
      continue;
    }
    if (p.enum && !p.enum.includes(value)) return `parameter ${key}=${JSON.stringify(value)} is not one of ${JSON.stringify(p.enum)}`;
    if (p.pattern !== undefined && !new RegExp(`^(?:${p.pattern})$`).test(String(value))) {
      return `parameter ${key}=${JSON.stringify(value)} does not match /${p.pattern}/`;
    }
  }
  return null;
}
