import { z } from 'zod';
import { parseDuration } from '../core/time.js';

/**
 * The policy's `mcp:` section: who may read the daemon over MCP and how much one call may ask for.
 * Reading only: no MCP tool approves, rejects, silences or executes, whatever the caller's token.
 */

const DURATION = /^\d+(ms|s|m|h|d)$/;
const rangeLimit = z
  .string()
  .regex(DURATION, 'expected a duration such as 30m, 6h, 1d')
  .refine((s) => !DURATION.test(s) || (parseDuration(s) >= 60_000 && parseDuration(s) <= 15 * 86_400_000), 'expected a duration between 1m and 15d');

export const mcpPolicySchema = z.strictObject({
  http: z.boolean().default(true).describe('serve MCP (streamable HTTP, stateless) at /mcp on the daemon; every call needs a bearer token'),
  readers: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lowercase name (letters, digits, - and _)'),
      z.strictObject({ tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected the hex sha256 of the reader token (never the token itself)') }),
    )
    .refine((r) => Object.keys(r).length <= 1000, 'at most 1000 readers')
    .default({})
    .describe('read-only tokens for assistants and other agents (`cloudops token` makes one); they can never decide'),
  approverTokens: z.boolean().default(true).describe("approvers' own tokens may also read over MCP (still read only)"),
  ratePerMinute: z.int().min(1).max(10_000).default(60).describe('calls per caller per minute'),
  maxRange: rangeLimit.default('24h').describe('longest time range query_metrics and query_logs accept'),
  maxResultBytes: z.int().min(1024).max(1_000_000).default(65_536).describe('a result larger than this is refused with a request to narrow the query'),
  maxLogRecords: z.int().min(1).max(10_000).default(200),
});

export type McpPolicy = z.output<typeof mcpPolicySchema>;
