import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small SSM server speaking the real AWS JSON 1.1 protocol (`X-Amz-Target: AmazonSSM.<Operation>`), for
 * what moto lacks: StartAutomationExecution (ClientToken idempotency, tags), GetAutomationExecution and
 * DescribeAutomationExecutions, plus DescribeDocument. The real @aws-sdk/client-ssm talks to it.
 */

export interface StubAutomation {
  readonly id: string;
  readonly documentName: string;
  readonly documentVersion: string;
  readonly parameters: Record<string, string[]>;
  readonly clientToken: string | undefined;
  readonly tags: readonly { Key: string; Value: string }[];
  readonly startedAt: number;
  status: string;
}

export interface SsmAutomationStub {
  readonly url: string;
  /** Documents that exist: name → { version, description }. */
  readonly documents: Map<string, { version: string; description: string }>;
  readonly executions: StubAutomation[];
  /** Every operation called, in order. */
  readonly calls: string[];
  /** The next StartAutomationExecution is applied, then its connection is dropped (the answer is lost). */
  dropNextStartResponse: boolean;
  close(): Promise<void>;
}

type Body = Record<string, unknown>;

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export async function startSsmAutomationStub(): Promise<SsmAutomationStub> {
  const documents = new Map<string, { version: string; description: string }>();
  const executions: StubAutomation[] = [];
  const calls: string[] = [];
  const stub: SsmAutomationStub = { url: '', documents, executions, calls, dropNextStartResponse: false, close: async () => undefined };

  const meta = (e: StubAutomation): Body => ({ AutomationExecutionId: e.id, DocumentName: e.documentName, DocumentVersion: e.documentVersion, AutomationExecutionStatus: e.status, ExecutionStartTime: e.startedAt / 1000 });

  const ops: Record<string, (b: Body) => Body> = {
    DescribeDocument(b) {
      const name = str(b['Name']) ?? '';
      const d = documents.get(name);
      if (!d) throw new AwsError('InvalidDocument', `Document ${name} does not exist.`);
      return { Document: { Name: name, DocumentVersion: d.version, Description: d.description, DocumentType: 'Automation', Status: 'Active' } };
    },
    StartAutomationExecution(b) {
      const name = str(b['DocumentName']) ?? '';
      const d = documents.get(name);
      if (!d) throw new AwsError('AutomationDefinitionNotFoundException', `Automation definition ${name} was not found.`);
      const token = str(b['ClientToken']);
      const parameters = (b['Parameters'] ?? {}) as Record<string, string[]>;
      if (token !== undefined) {
        const prior = executions.find((e) => e.clientToken === token);
        if (prior) {
          // The real API: the same token with different input is a mismatch, with the same input the same execution.
          if (prior.documentName !== name || JSON.stringify(prior.parameters) !== JSON.stringify(parameters)) throw new AwsError('IdempotentParameterMismatch', 'ClientToken reused with different parameters');
          return { AutomationExecutionId: prior.id };
        }
      }
      const e: StubAutomation = { id: randomUUID(), documentName: name, documentVersion: str(b['DocumentVersion']) ?? d.version, parameters, clientToken: token, tags: (b['Tags'] ?? []) as { Key: string; Value: string }[], startedAt: Date.now(), status: 'InProgress' };
      executions.push(e);
      return { AutomationExecutionId: e.id };
    },
    GetAutomationExecution(b) {
      const e = executions.find((x) => x.id === b['AutomationExecutionId']);
      if (!e) throw new AwsError('AutomationExecutionNotFoundException', `Automation execution ${String(b['AutomationExecutionId'])} not found`);
      return { AutomationExecution: { ...meta(e), Parameters: e.parameters } };
    },
    DescribeAutomationExecutions(b) {
      const filters = (b['Filters'] ?? []) as { Key: string; Values: string[] }[];
      const max = typeof b['MaxResults'] === 'number' ? b['MaxResults'] : 50;
      const hit = executions.filter((e) =>
        filters.every((f) => {
          if (f.Key === 'TagKey') return e.tags.some((t) => f.Values.includes(t.Key));
          if (f.Key === 'DocumentNamePrefix') return f.Values.some((v) => e.documentName.startsWith(v));
          if (f.Key === 'ExecutionStatus') return f.Values.includes(e.status);
          throw new AwsError('InvalidFilterKey', `filter key ${f.Key} is not supported by this stub`);
        }),
      );
      return { AutomationExecutionMetadataList: hit.slice(-max).reverse().map(meta) };
    },
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const op = typeof target === 'string' && target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : '';
      calls.push(op);
      const send = (status: number, body: Body, type?: string): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), ...(type ? { 'x-amzn-errortype': type } : {}) });
        res.end(JSON.stringify(body));
      };
      const handler = ops[op];
      if (!handler || req.headers['content-type'] !== 'application/x-amz-json-1.1') {
        send(400, { __type: 'UnknownOperationException', message: `this stub does not speak ${String(target)}` }, 'UnknownOperationException');
        return;
      }
      try {
        const out = handler(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Body);
        if (op === 'StartAutomationExecution' && stub.dropNextStartResponse) {
          stub.dropNextStartResponse = false;
          req.socket.destroy();
          return;
        }
        send(200, out);
      } catch (err) {
        if (err instanceof AwsError) send(400, { __type: err.type, message: err.message }, err.type);
        else send(500, { __type: 'InternalServerError', message: String(err) }, 'InternalServerError');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(stub, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
