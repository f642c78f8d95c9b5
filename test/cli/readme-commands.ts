/**
 * The README's commands, checked against what really exists: the `cloudops` command tree (commander),
 * package.json's scripts, and the repository's files. Used by readme-commands.test.ts.
 */
import type { Command, Option } from 'commander';

/** Splits one shell line into words as bash would (quotes, backslashes, a `#` comment); null when a quote is left open. */
export function shellWords(line: string): string[] | null {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return null;
  if (inWord) words.push(word);
  return words;
}

/** The README's shell lines: each line of its ```sh blocks (continuations joined). */
export function readmeShellLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const block of markdown.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    const joined = block[1]!.replace(/\\\n/g, ' ');
    for (const l of joined.split('\n')) if (l.trim() && !l.trim().startsWith('#')) lines.push(l.trim());
  }
  return lines;
}

/** The inline `…` spans of the prose that name a cloudops command (`cloudops show ID --record`, `npm run cloudops -- token`). */
export function readmeInlineCommands(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/`((?:npx |npm run (?:-s )?)?cloudops (?:[^`]*))`/g)].map((m) => m[1]!);
}

/** One shell command (a `&&`/`;`/`|` part of a line), its words without leading VAR=value and redirections. */
export function commandsOf(line: string): { words: string[]; problems: string[] } [] {
  const words = shellWords(line);
  if (words === null) return [{ words: [], problems: [`unbalanced quotes: ${line}`] }];
  const parts: string[][] = [[]];
  for (const w of words) {
    if (w === '&&' || w === ';' || w === '|' || w === '||') parts.push([]);
    else parts[parts.length - 1]!.push(w);
  }
  return parts.map((p) => {
    const problems: string[] = [];
    const out: string[] = [];
    let i = 0;
    while (i < p.length && /^[A-Z_][A-Z0-9_]*=/.test(p[i]!)) i++;
    for (; i < p.length; i++) {
      const w = p[i]!;
      if (/^\d?>>?$/.test(w)) i++; // `> file`: the shell's, not the command's
      else if (/^\d?>>?\S/.test(w)) continue;
      else if (/^<.*>$/.test(w) || /^</.test(w)) problems.push(`"${w}" is a placeholder bash cannot run as pasted (it reads a file named ${w.replace(/^<|>$/g, '')})`);
      else out.push(w);
    }
    return { words: out, problems };
  });
}

/** The cloudops arguments of a command, or null when it does not run cloudops. */
export function cloudopsArgs(words: readonly string[]): string[] | null {
  if (words[0] === 'npx' && words[1] === 'cloudops') return words.slice(2);
  if (words[0] === 'cloudops') return words.slice(1);
  if (words[0] === 'node' && words[1] === 'bin/cloudops.js') return words.slice(2);
  if (words[0] === 'npm' && words[1] === 'run') {
    const rest = words.slice(2).filter((w) => w !== '-s' && w !== '--silent');
    if (rest[0] !== 'cloudops') return null;
    return rest[1] === '--' ? rest.slice(2) : rest.length === 1 ? [] : ['<npm run cloudops without -- before its arguments>'];
  }
  return null;
}

const findOption = (cmd: Command, flag: string): Option | undefined => {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === flag || x.short === flag);
    if (o) return o;
  }
  return undefined;
};

/**
 * What is wrong with `cloudops ARGS` for this command tree: an unknown subcommand or option, a missing
 * argument or required option. A `mention` (an inline span in prose) is checked for names and options only.
 */
export function cliProblems(program: Command, args: readonly string[], mention = false): string[] {
  let cmd = program;
  let i = 0;
  while (i < args.length && !args[i]!.startsWith('-')) {
    const sub = cmd.commands.find((c) => c.name() === args[i] || c.aliases().includes(args[i]!));
    if (!sub) break;
    cmd = sub;
    i++;
  }
  const where = ['cloudops', ...args.slice(0, i)].join(' ');
  const problems: string[] = [];
  if (cmd.commands.length > 0 && i < args.length && !args[i]!.startsWith('-')) return [`${where}: no subcommand "${args[i]}" (has: ${cmd.commands.map((c) => c.name()).join(', ')})`];
  const given = new Set<string>();
  const positional: string[] = [];
  let helpOrVersion = false;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') helpOrVersion = true;
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const flag = a.split('=')[0]!;
    const opt = findOption(cmd, flag);
    if (!opt) {
      if (flag !== '--help' && flag !== '-h') problems.push(`${where}: no option ${flag}`);
      continue;
    }
    if (opt.long === '--version') helpOrVersion = true;
    given.add(opt.attributeName());
    if ((opt.required || opt.optional) && !a.includes('=')) {
      if (opt.required && (i + 1 >= args.length || args[i + 1]!.startsWith('--'))) problems.push(`${where}: ${flag} needs a value`);
      else if (opt.required || !args[i + 1]?.startsWith('-')) i++;
    }
  }
  if (helpOrVersion || mention) return problems;
  if (cmd.commands.length > 0 && !(cmd as unknown as { _actionHandler?: unknown })._actionHandler) problems.push(`${where}: needs a subcommand (${cmd.commands.map((c) => c.name()).join(', ')})`);
  const declared = cmd.registeredArguments;
  const needed = declared.filter((a) => a.required).length;
  const variadic = declared.some((a) => a.variadic);
  if (positional.length < needed) problems.push(`${where}: needs ${needed} argument(s) (${declared.map((a) => a.name()).join(', ')}), got ${positional.length}`);
  if (!variadic && positional.length > declared.length) problems.push(`${where}: takes ${declared.length} argument(s), got ${positional.length} (${positional.join(' ')})`);
  for (const o of cmd.options) if (o.mandatory && o.defaultValue === undefined && !given.has(o.attributeName())) problems.push(`${where}: ${o.long} is required`);
  return problems;
}
