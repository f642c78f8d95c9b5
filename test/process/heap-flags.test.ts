import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../../src/pipeline/heap-flags.js';

describe('the daemon\'s V8 heap flags', () => {
  it('the container runs the daemon with exactly DAEMON_NODE_FLAGS (the flags bench:reliability measures)', () => {
    const line = readFileSync('Dockerfile', 'utf8').split('\n').find((l) => l.startsWith('ENTRYPOINT'));
    expect(JSON.parse((line ?? '').replace(/^ENTRYPOINT\s+/, ''))).toEqual(['node', ...DAEMON_NODE_FLAGS, 'bin/cloudops.js']);
  });

  it('this Node accepts them and they take effect: a young generation busy with survivors stays within 2 MB semi-spaces', () => {
    // Objects that survive a scavenge or two make V8 grow its young generation to its maximum.
    const script = [
      "const v8 = require('v8'); let keep = []; let max = 0;",
      'for (let i = 0; i < 300000; i++) {',
      '  keep.push({ a: i, b: [i, i] }); if (keep.length > 20000) keep = keep.slice(10000);',
      "  if (i % 1000 === 0) max = Math.max(max, v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space').space_size);",
      '}',
      'console.log(max);',
    ].join('\n');
    const grown = (flags: readonly string[]): number => Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }).trim());
    expect(grown(DAEMON_NODE_FLAGS)).toBeLessThanOrEqual(4 * 1024 * 1024);
    // Without them the same work grows it past that (V8's default: semi-spaces up to 16 MB).
    expect(grown([])).toBeGreaterThan(4 * 1024 * 1024);
  });
});
