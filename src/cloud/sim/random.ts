/** Deterministic pseudo-random numbers: the same scenario and seed always give the same series. */
export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** A uniform number in [0, 1) for (seed, key, index), stateless. */
export function uniform(seed: number, key: number, index: number): number {
  let t = (seed ^ Math.imul(key, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** A standard normal number for (seed, key, index) by Box–Muller. */
export function gaussian(seed: number, key: number, index: number): number {
  const u1 = Math.max(uniform(seed, key, index * 2), 1e-12);
  const u2 = uniform(seed, key, index * 2 + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** mulberry32: a small seeded generator, so a seed always gives the same sequence (suites, fault replays). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
