import type { PolicyDoc } from '../policy/schema.js';
import { sha256Hex } from './approver-tokens.js';

/** Where the CLI finds the demo token for an approver when CLOUDOPS_TOKEN is unset (documented in config/demo.yaml). */
export const demoToken = (approver: string): string => `demo-token-${approver}`;

/** Approvers whose token is the published demo token: the CLI can act as them without CLOUDOPS_TOKEN. */
export function demoApprovers(approvers: PolicyDoc['approvers']): Set<string> {
  return new Set(Object.entries(approvers).filter(([name, a]) => a.tokenSha256 === sha256Hex(demoToken(name))).map(([name]) => name));
}
