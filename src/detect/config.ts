/**
 * Per-metric detector policy (the `detector:` block of a metric in the YAML policy) and the factory the daemon calls.
 *
 *   createDetector(detectorConfigSchema.parse(yamlBlock ?? {}), periodMs)
 */
import { z } from 'zod';
import type { StreamingDetector } from './detector.js';
import { adaptiveDetector } from './adaptive-detector.js';
import { staticThresholdDetector } from './static-threshold.js';

export const detectorConfigSchema = z
  .strictObject({
    /** Which deviations alarm: 'up' (above expected), 'down', or 'both'. Default 'both'. */
    direction: z.enum(['up', 'down', 'both']).default('both'),
    /**
     * Sensitivity in [0, 1], default 0.5. Sets the score a point needs to be anomalous:
     * threshold = 0.9 − 0.4·sensitivity (0 → 0.9, fewest alarms; 0.5 → 0.7, above the NAB-optimized threshold of
     * about 0.5, trading recall for fewer pages; 1 → 0.5). Scores are calibrated to a rate of alarms per unit of time
     * (adaptive-detector.ts), so one sensitivity means the same on one-minute, five-minute and hourly metrics.
     * Ignored by the static detector.
     */
    sensitivity: z.number().min(0).max(1).default(0.5),
    /** Consecutive anomalous points needed before a verdict is anomalous. Default 1 (alarm on the first point). */
    minDuration: z.number().int().min(1).max(1000).default(1),
    /** Points learned before any verdict can be anomalous (scores are 0 meanwhile). Default 30. */
    warmup: z.number().int().min(0).max(100_000).default(30),
    /**
     * Seasonal baseline: 'none' (default), 'daily' (24 hourly slots), 'weekly' (42 four-hour slots), or 'auto'
     * (daily slots, applied only as far as they explain the series). Uses the point timestamps; the baseline subtracts
     * each slot's learned offset from the level; slots learn with a memory of days (weeks), whatever the period.
     */
    seasonality: z.enum(['none', 'daily', 'weekly', 'auto']).default('none'),
    /**
     * Missing datapoints (value null), CloudWatch TreatMissingData vocabulary. Default 'ignore'.
     * 'ignore': skipped (score 0, state and alarm run unchanged); 'notBreaching': skipped and resets the
     * alarm run; 'breaching': counts as an anomalous point (score 1) without touching the baseline;
     * 'zero': treated as the value 0.
     */
    missing: z.enum(['ignore', 'zero', 'breaching', 'notBreaching']).default('ignore'),
    /**
     * 'adaptive' (default, learned baseline), 'static' (fixed bounds in `threshold`), or 'cloudwatchBand'
     * (AWS only: CloudWatch's ANOMALY_DETECTION_BAND judges each point; width 5 - 4·sensitivity standard deviations).
     */
    kind: z.enum(['adaptive', 'static', 'cloudwatchBand']).default('adaptive'),
    /** Static bounds: anomalous when value > above or value < below. Required when kind is 'static'. */
    threshold: z
      .strictObject({ above: z.number().optional(), below: z.number().optional() })
      .refine((t) => t.above !== undefined || t.below !== undefined, 'threshold needs above and/or below')
      .optional(),
  })
  .refine((c) => c.kind !== 'static' || c.threshold !== undefined, {
    message: "kind 'static' needs threshold {above?, below?}",
    path: ['threshold'],
  });

/** Input shape (everything optional), as written in YAML. */
export type DetectorConfigInput = z.input<typeof detectorConfigSchema>;
/** Parsed shape, defaults applied. */
export type DetectorConfig = z.output<typeof detectorConfigSchema>;

/** Score threshold for a sensitivity in [0, 1]. */
export const thresholdForSensitivity = (sensitivity: number): number => 0.9 - 0.4 * sensitivity;

/**
 * Builds the detector for one metric. `config` may be a partial (YAML) block; it is parsed with the schema.
 * `periodMs` is the metric's period (seasonal slots and gap handling use it).
 */
export function createDetector(config: DetectorConfigInput | DetectorConfig = {}, periodMs = 60_000): StreamingDetector {
  const c = detectorConfigSchema.parse(config);
  if (!(periodMs > 0)) throw new Error(`periodMs must be > 0, got ${periodMs}`);
  if (c.kind === 'static') return staticThresholdDetector(c);
  // 'cloudwatchBand': CloudWatch's own anomaly band judges the points (src/pipeline/observe.ts); the adaptive
  // detector still runs beside it, so a point without a band value is judged as usual.
  return adaptiveDetector(c, periodMs);
}
