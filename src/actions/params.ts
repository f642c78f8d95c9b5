import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PortError } from '../core/errors.js';

/** Shared parameter types of the catalogue (absolute bounds from the AWS APIs; the policy narrows them). */

/** A name the AWS APIs accept (pipelines, stages, clusters, services, functions): no spaces, no control characters. */
export const awsName = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9._@:/+=,-]+$/, 'expected an AWS name (letters, digits and ._@:/+=,-)');

/** An integer that may arrive as a string (template placeholders are filled with text). */
export const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A boolean that may arrive as "true"/"false". */
export const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);

/** The SDK error's name (`DuplicatedStopRequestException`), through the port error wrapper. */
export function errorName(err: unknown): string | undefined {
  const c = err instanceof PortError ? err.cause : err;
  return typeof c === 'object' && c !== null && 'name' in c && typeof c.name === 'string' ? c.name : undefined;
}

/** A stable UUID (v4 layout) from the idempotency key, for APIs whose ClientToken must be a UUID. */
export function uuidFromKey(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A short tag-safe digest of the key, for markers written into the cloud (tags, reasons). */
export const keyDigest = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 16);
