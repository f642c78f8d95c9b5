import { createHash } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

/** A real MCP client (the official SDK's) and the few readers the MCP tests share. */
export const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
export type ToolResult = { isError?: boolean; content: { type: string; text?: string }[] };
export const textOf = (r: unknown): string => (r as ToolResult).content.find((c) => c.type === 'text')?.text ?? '';
export const jsonOf = (r: unknown): any => JSON.parse(textOf(r));

/** Connects to /mcp on a daemon with a reader's bearer token. */
export async function connect(url: string, token: string, mode: 'legacy' | 'auto' = 'legacy'): Promise<Client> {
  const client = new Client({ name: 'test-assistant', version: '1.0.0' }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}
