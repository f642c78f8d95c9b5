import { z } from 'zod';
import { policySchema } from './schema.js';

/** The JSON Schema editors use to check and complete policy files (generated from the zod schema). */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(policySchema, { io: 'input', unrepresentable: 'any' }),
    title: 'cloudops-watcher policy',
  };
}
