import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { program } from '../../src/cli/program.js';
import { cliProblems, cloudopsArgs, commandsOf, readmeInlineCommands, readmeShellLines } from './readme-commands.js';

/**
 * The README as a new user reads it: every command it shows must run as written. Each `npx cloudops …`,
 * `npm run cloudops -- …`, `node bin/cloudops.js …` (and inline `cloudops …`) is checked against the real
 * command tree — the subcommand exists, its options exist, its arguments and required options are there
 * (for an inline mention in prose, `cloudops show ID --record`, only that the names and options exist),
 * no `<placeholder>` bash would read as a redirection — every `npm run X` names a script, and every
 * repository path it names exists (or an earlier README command creates it). A README drift fails here.
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SCRIPTS = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
const lines = readmeShellLines(README);
const commands = lines.flatMap((l) => commandsOf(l).map((c) => ({ line: l, ...c })));

describe('the README commands', () => {
  it('opens with `npm ci && npm start` and `npm test`', () => {
    const first = /```sh\n([\s\S]*?)```/.exec(README)?.[1]?.split('\n').map((l) => l.replace(/#.*/, '').trim()) ?? [];
    expect(first.slice(0, 2)).toEqual(['npm ci && npm start', 'npm test']);
  });

  it('every cloudops command names a real subcommand with real options, its arguments and required options', () => {
    const cli = commands.flatMap((c) => {
      const args = cloudopsArgs(c.words);
      return args ? [{ ...c, args }] : [];
    });
    // Not vacuous: the README shows the demo, follow-ups, silences, validate, backtest, run, token, audit.
    const subs = new Set(cli.map((c) => c.args.find((a) => !a.startsWith('-')) ?? c.args[0]));
    for (const s of ['incidents', 'show', 'approve', 'reject', 'audit', 'repropose', 'assign', 'close', 'silence', 'validate', 'backtest', 'run', 'token']) expect(subs, s).toContain(s);
    const problems = cli.flatMap((c) => [...c.problems, ...cliProblems(program, c.args)].map((p) => `${c.line}\n    → ${p}`));
    expect(problems).toEqual([]);
  });

  it('every command bash would run has no <placeholder> in it', () => {
    expect(commands.flatMap((c) => c.problems.map((p) => `${c.line}: ${p}`))).toEqual([]);
  });

  it('every npm command names a script in package.json', () => {
    const npm = commands.filter((c) => c.words[0] === 'npm' && c.words[1] !== 'ci' && c.words[1] !== 'install');
    expect(npm.length).toBeGreaterThan(8);
    const missing = npm.flatMap((c) => {
      const rest = c.words.slice(1).filter((w) => w !== '-s' && w !== '--silent');
      const script = rest[0] === 'run' ? rest[1] : rest[0];
      return script && SCRIPTS.includes(script) ? [] : [`${c.line}: no script "${script}"`];
    });
    expect(missing).toEqual([]);
  });

  it('every inline cloudops command in the prose parses (a bare `cloudops X` mention: its names and options exist)', () => {
    const mentions = readmeInlineCommands(README);
    expect(mentions.length).toBeGreaterThan(4);
    const pasteable = (m: string): boolean => /^(npx|npm|node) /.test(m);
    expect(mentions.some((m) => pasteable(m) && m.includes(' step done '))).toBe(true);
    const problems = mentions.flatMap((m) => commandsOf(m).flatMap((c) => [...(pasteable(m) ? c.problems : []), ...cliProblems(program, cloudopsArgs(c.words) ?? ['<not a cloudops command>'], !pasteable(m))].map((p) => `${m}: ${p}`)));
    expect(problems).toEqual([]);
  });

  it('every repository path a command names exists, or a README command makes it (cp)', () => {
    const made = new Set(commands.filter((c) => c.words[0] === 'cp' && c.words.length === 3).map((c) => c.words[2]!));
    const missing = commands.flatMap((c) => c.words.filter((w) => /^(config|runbooks|docs|bin|src|test|bench|prompts)\/[\w./-]+$/.test(w) && !made.has(w) && !existsSync(join(ROOT, w))).map((w) => `${c.line}: ${w}`));
    expect(missing).toEqual([]);
    const linked = [...README.matchAll(/\]\(((?:docs|config|runbooks)\/[^)]+)\)/g)].map((m) => m[1]!);
    expect(linked.length).toBeGreaterThan(0);
    expect(linked.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it('the checks catch drift: an unknown subcommand or option, a missing argument or required option, a placeholder', () => {
    const check = (line: string): string[] => commandsOf(line).flatMap((c) => [...c.problems, ...cliProblems(program, cloudopsArgs(c.words) ?? [])]);
    expect(check('npm run cloudops -- show checkout-20261102-0803 --markdown')).toEqual([]);
    expect(check('npm run cloudops -- shwo checkout-20261102-0803').join()).toMatch(/no option|argument|subcommand/);
    expect(check('npx cloudops show checkout-20261102-0803 --format md').join()).toMatch(/no option --format/);
    expect(check('npx cloudops approve checkout-20261102-0803').join()).toMatch(/--as is required/);
    expect(check('npx cloudops approve --as alice').join()).toMatch(/needs 1 argument/);
    expect(check('npx cloudops silence').join()).toMatch(/needs a subcommand/);
    expect(check('npx cloudops silence mute --service checkout').join()).toMatch(/no subcommand "mute"/);
    expect(check('npm run cloudops -- approve <ID> --as alice').join()).toMatch(/placeholder/);
    expect(check('npm run cloudops show x').join()).toMatch(/without --/);
    expect(check('npx cloudops --version')).toEqual([]);
    expect(cliProblems(program, ['show', 'ID', '--recrod'], true).join()).toMatch(/no option --recrod/);
  });
});
