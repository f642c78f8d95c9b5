import type { LogRecord } from '../cloud/ports.js';
import type { EpochMs } from '../core/time.js';
import type { LogEvidence, LogTemplateEvidence } from './incident.js';
import { redact } from '../core/redact.js';

/** Masks the variable parts of a log line (ids, numbers, addresses) so equal events share a template. */
export function templateOf(message: string): string {
  return message
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b\d{1,3}(\.\d{1,3}){3}\b/g, '<ip>')
    .replace(/\b0x[0-9a-f]+\b|\b[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/\b\d+(\.\d+)?(ms|s|kb|mb|%)?\b/gi, '<num>');
}

export interface EvidenceInput {
  readonly groups: readonly string[];
  readonly records: readonly LogRecord[];
  readonly baseline: { readonly start: EpochMs; readonly end: EpochMs };
  readonly onset: { readonly start: EpochMs; readonly end: EpochMs };
  readonly maxTemplates?: number;
}

/**
 * Log templates that are new after the onset, or grew sharply compared with the baseline window
 * (rates per minute), with counts and a few redacted samples. Pure.
 */
export function logEvidence(input: EvidenceInput): LogEvidence {
  const base = new Map<string, number>();
  const after = new Map<string, { count: number; samples: string[] }>();
  let baseLines = 0;
  let onsetLines = 0;
  for (const r of input.records) {
    const tpl = templateOf(r.message);
    if (r.t >= input.baseline.start && r.t < input.baseline.end) {
      baseLines++;
      base.set(tpl, (base.get(tpl) ?? 0) + 1);
    } else if (r.t >= input.onset.start && r.t < input.onset.end) {
      onsetLines++;
      const e = after.get(tpl) ?? { count: 0, samples: [] };
      e.count++;
      if (e.samples.length < 3) e.samples.push(redact(r.message).slice(0, 300));
      after.set(tpl, e);
    }
  }
  const baseMin = Math.max(1, (input.baseline.end - input.baseline.start) / 60_000);
  const onsetMin = Math.max(1, (input.onset.end - input.onset.start) / 60_000);
  const templates: (LogTemplateEvidence & { growth: number })[] = [];
  for (const [tpl, e] of after) {
    const b = base.get(tpl) ?? 0;
    const growth = (e.count / onsetMin) / ((b + 0.5) / baseMin);
    if (b === 0 || growth >= 3) templates.push({ template: redact(tpl).slice(0, 300), baselineCount: b, onsetCount: e.count, isNew: b === 0, samples: e.samples, growth });
  }
  templates.sort((a, b) => Number(b.isNew) - Number(a.isNew) || b.growth - a.growth);
  return {
    groups: input.groups,
    baseline: { ...input.baseline, lines: baseLines },
    onset: { ...input.onset, lines: onsetLines },
    templates: templates.slice(0, input.maxTemplates ?? 5).map(({ growth: _g, ...t }) => t),
  };
}
