import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';

/**
 * The MCP SDK warns ("responseMode: 'json' drops mid-call notifications") whenever its handler is made
 * with responseMode 'json'. /mcp uses the SDK's default response mode (a JSON body unless a call streams),
 * so a daemon start prints no such warning, and /mcp still answers.
 */
describe('daemon start and the MCP transport', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-mcp-warn-'));
  let d: DaemonProcess | undefined;
  afterAll(() => {
    d?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints no responseMode warning on start, and /mcp answers', async () => {
    d = await startDaemonProcess(['--policy', 'config/demo.yaml', '--data-dir', dir, '--speed', '60']);
    // /mcp exists (its handler was built at start): without a token it is refused with 401, not 404.
    const res = await fetch(`${d.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(d.output()).toContain('Incidents: ');
    expect(d.output()).not.toMatch(/responseMode|drops mid-call notifications/);
  }, 60_000);
});
