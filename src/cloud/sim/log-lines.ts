import { hashString, uniform } from './random.js';

/**
 * Fills a scenario log template: {int:A-B}, {uuid}, {ip}, {hex} become deterministic values for
 * (seed, generator, time), so a log line is the same every time it is read.
 */
export function renderLogTemplate(template: string, seed: number, key: string, t: number): string {
  const k = hashString(key);
  let n = 0;
  const u = (): number => uniform(seed, k, Math.floor(t / 1000) * 16 + n++);
  return template.replace(/\{(int:(\d+)-(\d+)|uuid|ip|hex)\}/g, (_m, kind: string, lo?: string, hi?: string) => {
    if (kind.startsWith('int')) return String(Math.floor(Number(lo) + u() * (Number(hi) - Number(lo) + 1)));
    if (kind === 'ip') return `10.${Math.floor(u() * 256)}.${Math.floor(u() * 256)}.${Math.floor(u() * 256)}`;
    if (kind === 'hex') return Math.floor(u() * 0xffffffff).toString(16).padStart(8, '0');
    const h = (): string => Math.floor(u() * 0xffffffff).toString(16).padStart(8, '0');
    return `${h()}-${h().slice(0, 4)}-4${h().slice(0, 3)}-a${h().slice(0, 3)}-${h()}${h().slice(0, 4)}`;
  });
}
