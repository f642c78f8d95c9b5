import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A prompt file as sent: its name, text and the sha256 the audit record keeps. */
export interface Prompt {
  readonly name: string;
  readonly text: string;
  readonly hash: string;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** The repository's `prompts/` folder, found upwards from this module (works from src/ and from a build). */
export function defaultPromptDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'prompts');
    if (existsSync(join(candidate, 'investigate.md'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('prompts/ folder not found above ' + dirname(fileURLToPath(import.meta.url)));
}

/** Loads `NAME.md` from `dir`. Names are checked so no path can be formed from one. */
export function loadPrompt(dir: string, name: string): Prompt {
  if (!NAME.test(name)) throw new Error(`invalid prompt name "${name}"`);
  const text = readFileSync(join(dir, `${name}.md`), 'utf8').trim();
  return { name, text, hash: 'sha256:' + createHash('sha256').update(text).digest('hex') };
}

/** Fills `{{key}}` placeholders of a prompt with trusted values (policy data, never tool output). */
export function renderPrompt(p: Prompt, values: Readonly<Record<string, string>>): string {
  return p.text.replace(/\{\{\s*([a-zA-Z.]+)\s*\}\}/g, (m, k: string) => values[k] ?? m);
}
