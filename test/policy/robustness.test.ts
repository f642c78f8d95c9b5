import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_LISTED_ERRORS, parsePolicy, PolicyInvalidError } from '../../src/policy/load.js';

const VALID = readFileSync('test/fixtures/policies/valid.yaml', 'utf8');

/** Parses and returns the error lines, or [] when the text is valid; anything but PolicyInvalidError fails the test. */
function problems(text: string): string[] {
  try {
    parsePolicy(text, 'p.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof PolicyInvalidError)) throw err;
    return err.message.split('\n');
  }
}

/** A small deterministic PRNG, so a failing case can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('policy loading is linear in the size of the file', () => {
  it('reports 20,000 unknown keys fast, listing the first ones and counting the rest', () => {
    const text = VALID + Array.from({ length: 20_000 }, (_, i) => `key${i}: 1\n`).join('');
    const started = performance.now();
    const lines = problems(text);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(15_000); // was 41 s (quadratic key lookups and duplicate-key check); the bound leaves room for a loaded machine, the ratio test below pins linearity
    expect(lines).toHaveLength(MAX_LISTED_ERRORS + 1);
    expect(lines[0]).toBe('p.yaml:34:1: key0: unknown key "key0"');
    expect(lines.at(-1)).toMatch(/: \(root\): … and 19900 more problems$/);
  });

  it('time grows about linearly: 4x the keys take well under 16x the time', () => {
    const time = (n: number): number => {
      const text = VALID + Array.from({ length: n }, (_, i) => `key${i}: 1\n`).join('');
      const started = performance.now();
      problems(text);
      return performance.now() - started;
    };
    time(2_000); // warm up
    const small = Math.max(time(4_000), 5);
    const large = time(16_000);
    expect(large / small).toBeLessThan(10);
  });

  it('finds a duplicate key among 20,000 distinct ones', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  k${i}: 1\n`).join('');
    const text = VALID.replace('services:\n', `services:\n  dup: { pipelines: [] }\n`) + `groups2:\n${keys}`.replace('groups2:', 'lol:') + 'services: {}\n';
    const started = performance.now();
    const lines = problems(text);
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(lines).toEqual([expect.stringMatching(/^p\.yaml:\d+:1: \(root\): YAML: Map keys must be unique$/)]);
  });

  it('refuses a file over the size bound without parsing it', () => {
    expect(problems(VALID + '#'.repeat(3 * 1024 * 1024))).toEqual(['p.yaml:1:1: (root): the file is larger than 2 MiB']);
  });
});

describe('every broken policy is a located PolicyInvalidError (fuzz)', () => {
  it('500 random mutations (cut, delete, duplicate, swap characters) never throw anything else and each stays fast', () => {
    const rnd = mulberry32(9);
    const alphabet = ['', ' ', '\n', ':', '-', '[', ']', '{', '}', '&a', '*a', '*b', '"', "'", '#', '!!', '0', '99999999999999999999d', '\t'];
    for (let n = 0; n < 500; n++) {
      let text = VALID;
      const edits = 1 + Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * text.length);
        const kind = Math.floor(rnd() * 4);
        if (kind === 0) text = text.slice(0, at); // truncated mid-file
        else if (kind === 1) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rnd() * 10));
        else if (kind === 2) text = text.slice(0, at) + alphabet[Math.floor(rnd() * alphabet.length)]! + text.slice(at);
        else text = text.slice(0, at) + text.slice(at, at + 20) + text.slice(at);
      }
      const started = performance.now();
      const lines = problems(text);
      expect(performance.now() - started).toBeLessThan(1_000);
      for (const l of lines) expect(l).toMatch(/^p\.yaml:\d+:\d+: /);
    }
  });

  it('no truncation of a real-account policy validates with weaker safety than the whole file', () => {
    // valid.yaml ends with its safety block: every cut that drops a safety line must fail.
    const cutAt = VALID.indexOf('safety:');
    for (let at = cutAt; at < VALID.length - 1; at++) {
      const lines = problems(VALID.slice(0, at));
      expect(lines.length, `cut at ${at}: ${JSON.stringify(VALID.slice(at - 10, at))}`).toBeGreaterThan(0);
    }
  });
});

describe('cloudops validate', () => {
  const cli = (file: string): { status: number; stdout: string; stderr: string } => {
    try {
      return { status: 0, stdout: execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'validate', file], { encoding: 'utf8', stdio: 'pipe' }), stderr: '' };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { status: e.status, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('reports an alias bomb at FILE:LINE:COL and exits 2', () => {
    const file = 'test/fixtures/policies/bad/yaml-alias-bomb.yaml';
    const r = cli(file);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`${file}:3:11: (root): YAML: Excessive alias count indicates a resource exhaustion attack`);
  });

  it('prints the effective safety settings of a valid policy', () => {
    const r = cli('config/policy.example.yaml');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('config/policy.example.yaml: valid (2 services, 7 metrics, 3 approvers, 2 runbooks)');
    expect(r.stdout).toContain('  kill switch:         off, SSM parameter /cloudops/kill-switch');
    expect(r.stdout).toContain('  max actions / hour:  5');
    expect(r.stdout).toContain('  approval ttl:        15m');
  });
});
