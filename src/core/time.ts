/** Milliseconds since the Unix epoch. Kept distinct from seconds in the type so the two never mix. */
export type EpochMs = number & { readonly __unit: 'epoch-ms' };
/** A duration in milliseconds. */
export type Millis = number & { readonly __unit: 'ms' };
/** Seconds (Logs Insights, SNS, Slack timestamps). */
export type Seconds = number & { readonly __unit: 's' };

export const epochMs = (n: number): EpochMs => n as EpochMs;
export const millis = (n: number): Millis => n as Millis;
export const seconds = (n: number): Seconds => n as Seconds;
export const toSeconds = (t: EpochMs | Millis): Seconds => Math.floor(t / 1000) as Seconds;
export const fromSeconds = (s: Seconds): EpochMs => (s * 1000) as EpochMs;
export const addMs = (t: EpochMs, d: number): EpochMs => (t + d) as EpochMs;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Parses "30s", "5m", "2h", "1d", "250ms" into milliseconds; throws on anything else. */
export function parseDuration(text: string): Millis {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}" (expected e.g. 30s, 5m, 2h, 1d)`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: DAY }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return millis(n * unit);
}

export const iso = (t: EpochMs): string => new Date(t).toISOString();
/** The earliest of some instants (keeps the unit: Math.min alone returns a bare number). */
export const earliest = (...ts: readonly EpochMs[]): EpochMs => Math.min(...ts) as EpochMs;
