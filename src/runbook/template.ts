import { parseDocument } from 'yaml';
import { z } from 'zod';
import { duration } from '../policy/schema.js';

const stepParams = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({});

/** A runbook template file: Markdown with YAML front matter between `---` lines. */
export const templateSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a kebab-case id'),
  title: z.string().min(1).max(200),
  priority: z.int().default(0).describe('higher wins when several templates apply'),
  applies: z
    .strictObject({
      suspect: z.enum(['required', 'none', 'any']).default('any').describe('whether a suspect deployment must exist'),
      services: z.array(z.string()).default([]).describe('empty = every service'),
      directions: z.array(z.enum(['up', 'down'])).default([]).describe('signal directions this fixes; empty = any'),
    })
    .prefault({}),
  steps: z
    .array(
      z.strictObject({
        action: z.string().min(1),
        description: z.string().min(1).max(500),
        params: stepParams,
        compensate: z
          .strictObject({ action: z.string().min(1), description: z.string().min(1).max(500), params: stepParams })
          .optional()
          .describe('what undoes this step if a later step fails; approved with the runbook'),
      }),
    )
    .min(1),
  verify: z.strictObject({ within: duration.default('10m'), healthyPolls: z.int().min(1).max(60).default(3) }).prefault({}),
});

export type TemplateFrontMatter = z.output<typeof templateSchema>;

export interface RunbookTemplate extends TemplateFrontMatter {
  readonly file: string;
  readonly body: string;
}

export class RunbookTemplateError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'RunbookTemplateError';
  }
}

/** Parses one template file's text; throws RunbookTemplateError with the file and the key at fault. */
export function parseTemplate(file: string, text: string): RunbookTemplate {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text);
  if (!m) throw new RunbookTemplateError(file, 'missing front matter (the file must start with a --- block)');
  const doc = parseDocument(m[1] ?? '');
  if (doc.errors.length > 0) throw new RunbookTemplateError(file, `YAML: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`);
  const parsed = templateSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new RunbookTemplateError(file, `${i?.path.join('.') || '(front matter)'}: ${i?.message ?? 'invalid'}`);
  }
  return { ...parsed.data, file, body: (m[2] ?? '').trim() };
}
