import { createHash, timingSafeEqual } from 'node:crypto';
import type { PolicyDoc } from '../policy/schema.js';

export const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** The approver whose token this is, or null. Tokens are kept only as sha256; compared in constant time. */
export function approverForToken(approvers: PolicyDoc['approvers'] | Readonly<Record<string, { readonly tokenSha256?: string | undefined }>>, token: string | null): string | null {
  if (!token || token.length > 512) return null;
  const digest = Buffer.from(sha256Hex(token), 'hex');
  let found: string | null = null;
  for (const [name, a] of Object.entries(approvers)) {
    if (!a.tokenSha256) continue;
    if (timingSafeEqual(digest, Buffer.from(a.tokenSha256, 'hex'))) found = name;
  }
  return found;
}
