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
    const bound = boundViolation(key, value, p.min, p.max);
    if (bound) return bound;
  }
  return null;
}

/** Why a value is outside the policy's numeric bounds, or null (a non-number against a bound is outside). */
export function boundViolation(key: string, value: string | number | boolean, min: number | null | undefined, max: number | null | undefined): string | null {
  if ((min === undefined || min === null) && (max === undefined || max === null)) return null;
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return `parameter ${key}=${JSON.stringify(value)} is not a number (the policy bounds it)`;
  if (min !== undefined && min !== null && n < min) return `parameter ${key}=${n} is below the policy's minimum ${min}`;
  if (max !== undefined && max !== null && n > max) return `parameter ${key}=${n} is above the policy's maximum ${max}`;
  return null;
}
