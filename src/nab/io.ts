/** Loading NAB's files: data CSVs, result CSVs (optionally gzipped), and the windows JSON. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Window } from './weights.js';

/** "YYYY-MM-DD HH:MM:SS[.ffffff]" (naive) → milliseconds, as if UTC; fractions are kept. */
export function parseNabTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) throw new Error(`invalid NAB timestamp "${text}"`);
  const frac = m[7] === undefined ? 0 : Number(m[7].padEnd(6, '0')) / 1000;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + frac;
}

export function readText(path: string): string {
  const buf = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

/** Parses a simple CSV (no quoting, as NAB writes) into a header and rows of cells. */
export function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = (lines[0] ?? '').split(',');
  return { header, rows: lines.slice(1).map((l) => l.split(',')) };
}

export interface DataFile {
  readonly timestampText: readonly string[];
  readonly timestamps: Float64Array;
  /** NaN where the value cell is empty. */
  readonly values: Float64Array;
}

export function loadDataFile(path: string): DataFile {
  const { header, rows } = parseCsv(readText(path));
  const ti = header.indexOf('timestamp');
  const vi = header.indexOf('value');
  if (ti < 0 || vi < 0) throw new Error(`${path}: expected columns timestamp,value`);
  const timestamps = new Float64Array(rows.length);
  const values = new Float64Array(rows.length);
  const timestampText: string[] = [];
  rows.forEach((r, i) => {
    const t = r[ti] ?? '';
    timestampText.push(t);
    timestamps[i] = parseNabTime(t);
    const v = (r[vi] ?? '').trim();
    values[i] = v === '' ? NaN : Number(v);
  });
  return { timestampText, timestamps, values };
}

/** The `anomaly_score` column of a NAB results file (found by header name). */
export function loadResultScores(path: string): Float64Array {
  const { header, rows } = parseCsv(readText(path));
  const si = header.indexOf('anomaly_score');
  if (si < 0) throw new Error(`${path}: no anomaly_score column`);
  return Float64Array.from(rows, (r) => Number(r[si]));
}

/** combined_windows.json → key → windows (timestamps parsed as date-times). */
export function loadWindows(path: string): Map<string, Window[]> {
  const json = JSON.parse(readText(path)) as Record<string, [string, string][]>;
  const out = new Map<string, Window[]>();
  for (const [key, list] of Object.entries(json)) {
    out.set(
      key,
      list.map(([s, e]) => ({ start: parseNabTime(s), end: parseNabTime(e) })),
    );
  }
  return out;
}

export interface CorpusEntry {
  readonly category: string;
  /** File name without `.csv`. */
  readonly name: string;
  /** `<category>/<name>.csv`. */
  readonly key: string;
  readonly path: string;
}

/** Every `<dataDir>/<category>/<name>.csv`, sorted by category then name. */
export function listCorpus(dataDir: string): CorpusEntry[] {
  const out: CorpusEntry[] = [];
  for (const category of readdirSync(dataDir).sort()) {
    const dir = join(dataDir, category);
    if (category.startsWith('.') || !statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).sort()) {
      if (file.startsWith('.') || !file.endsWith('.csv')) continue;
      const name = file.slice(0, -'.csv'.length);
      out.push({ category, name, key: `${category}/${file}`, path: join(dir, file) });
    }
  }
  return out;
}
