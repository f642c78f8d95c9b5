#!/usr/bin/env node
// The `cloudops` command. In a checkout (`npm ci`, no build) it runs the TypeScript source through tsx,
// so `npx cloudops …` works from a clone; an installed or container copy (no src/, no dev dependencies)
// runs the compiled CLI from dist/ (`npm run build`).
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const source = new URL('../src/cli.ts', import.meta.url);
const compiled = new URL('../dist/cli.js', import.meta.url);

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch {
    return null;
  }
}

const register = existsSync(fileURLToPath(source)) ? await tsxRegister() : null;
if (register) {
  register();
  await import(source.href);
} else if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  process.stderr.write('cloudops: neither the source (src/cli.ts with tsx installed: run `npm ci`) nor the build (dist/cli.js: run `npm run build`) is here\n');
  process.exit(1);
}
