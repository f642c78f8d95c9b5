import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll } from 'vitest';
import { approvalServer, type ApprovalServer } from '../server/approval-server.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches headless Chromium; without one the test fails (never skips) and says how to get it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface BrowserSession {
  /** Chromium and the approval server on the demo (closed after the file's tests). */
  start(o?: Parameters<typeof approvalServer>[0]): Promise<ApprovalServer>;
  /** A page in a new context at this viewport, with the page errors it collects. */
  page(width: number, height: number): Promise<{ page: Page; errors: string[] }>;
}

/** The browser and approval server of one test file: started by `start`, closed in `afterAll`. */
export function browserSession(): BrowserSession {
  let browser: Browser | null = null;
  let server: ApprovalServer | null = null;
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    async start(o = {}) {
      browser = await launchChromium();
      server = await approvalServer(o);
      return server;
    },
    async page(width, height) {
      if (!browser) throw new Error('browserSession: start() first');
      const page = await (await browser.newContext({ viewport: { width, height } })).newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      return { page, errors };
    },
  };
}
