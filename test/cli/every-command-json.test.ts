import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { program } from '../../src/cli/program.js';

/**
 * Issue 15 item 13: every `cloudops` command takes --json (machines read what people read) — except
 * `mcp`, whose stdout is the MCP protocol itself (JSON-RPC), so there is nothing else to print.
 */
const PROTOCOL_ON_STDOUT = new Set(['mcp']);
const leaves = (c: Command, path: string[] = []): { path: string; cmd: Command }[] =>
  c.commands.length === 0 ? [{ path: path.join(' '), cmd: c }] : c.commands.flatMap((s) => leaves(s, [...path, s.name()]));

describe('cloudops --json', () => {
  it('every command has a --json option', () => {
    const all = leaves(program);
    expect(all.length).toBeGreaterThan(15);
    expect(all.filter((l) => !PROTOCOL_ON_STDOUT.has(l.path) && !l.cmd.options.some((o) => o.long === '--json')).map((l) => l.path)).toEqual([]);
  });
});
