import { createServer, request, type IncomingMessage, type Server } from 'node:http';

/**
 * A loopback proxy that hands moto one request at a time. moto's TransactWriteItems snapshots the whole
 * table and puts the snapshot back when any part of the transaction fails (a condition, too), so two
 * transactions served at once on moto's threads can erase each other's writes, which DynamoDB never does
 * (it serialises writes per item). Through this proxy the writers still interleave between their reads
 * and their conditional writes, which is the race the store's conditions exist for; only moto's own
 * request handling is made one-at-a-time.
 */
export interface SerialProxy {
  readonly url: string;
  close(): Promise<void>;
}

const readAll = (m: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    m.on('data', (d: Buffer) => parts.push(d));
    m.on('end', () => resolve(Buffer.concat(parts)));
    m.on('error', reject);
  });

export async function startSerialProxy(target: string): Promise<SerialProxy> {
  const to = new URL(target);
  let queue: Promise<void> = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const body = readAll(req);
    queue = queue.then(async () => {
      try {
        const payload = await body;
        const answer = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
          const out = request(
            { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host }, timeout: 30_000 },
            (r) => readAll(r).then((b) => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: b }), reject),
          );
          out.on('timeout', () => out.destroy(new Error('moto did not answer within 30 s')));
          out.on('error', reject);
          out.end(payload);
        });
        const headers = { ...answer.headers };
        delete headers['transfer-encoding'];
        headers['content-length'] = String(answer.body.length);
        res.writeHead(answer.status, headers);
        res.end(answer.body);
      } catch (err) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`serial proxy: ${(err as Error).message}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
