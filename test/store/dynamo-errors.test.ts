import {
  BatchGetItemCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { PortError } from '../../src/core/errors.js';
import type { EpochMs } from '../../src/core/time.js';
import { cancellationError, ConditionFailed } from '../../src/store/dynamo-client.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { nextVersion, StoreConflictError } from '../../src/store/store.js';
import { incidentFor } from './store-contract.js';

/**
 * What moto cannot provoke: throttling, a transaction cancelled by another transaction, partial
 * batch answers. The store must turn each into a typed error (or retry), never the driver's error.
 */
const T = 1_800_000_000_000 as EpochMs;
const entry = { at: T, incidentId: 'inc-1', kind: 'incident.transition', actor: 'test', data: {} };
const throttled = () => Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: { httpStatusCode: 400 }, CancellationReasons: codes.map((Code) => ({ Code })) });

const mock = mockClient(DynamoDBClient);
afterEach(() => mock.reset());
const storeOnMock = () => new DynamoStore({ table: 'cloudops-test', client: new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }), auditKey: null });

describe('DynamoDB failures become typed store errors', () => {
  it('cancellation reasons: conditions only → ConditionFailed at those items; a conflicting transaction or throttling → retryable; anything else → permanent', () => {
    expect(cancellationError([{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed' }], 'op', null)).toMatchObject({ name: 'ConditionFailed', indexes: [0, 2] });
    const conflict = cancellationError([{ Code: 'None' }, { Code: 'TransactionConflict', Message: 'busy' }], 'op', null);
    expect(conflict).toMatchObject({ name: 'StoreUnavailableError', kind: 'unavailable', retryable: true, message: expect.stringMatching(/1:TransactionConflict \(busy\)/) as unknown });
    expect(cancellationError([{ Code: 'ConditionalCheckFailed' }, { Code: 'ThrottlingError' }], 'op', null)).toMatchObject({ retryable: true });
    expect(cancellationError([{ Code: 'ValidationError', Message: 'Item size has exceeded the maximum allowed size' }], 'op', null)).toMatchObject({ name: 'StoreRejectedError', kind: 'rejected', retryable: false });
    expect(cancellationError([{ Code: 'None' }, { Code: 'ThrottlingError' }], 'op', null)).toMatchObject({ name: 'StoreThrottledError', kind: 'throttled', retryable: true });
  });

  it('throttling on a read is a retryable PortError naming the call, not the SDK exception', async () => {
    mock.on(GetItemCommand).rejects(throttled());
    const err = await storeOnMock().getIncident('inc-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortError);
    expect(err).toMatchObject({ name: 'StoreThrottledError', kind: 'throttled', retryable: true, message: expect.stringMatching(/^dynamodb\.GetItem\(incident\) throttled: ThrottlingException/) as unknown });
  });

  it('a validation error on a write is permanent', async () => {
    mock.on(UpdateItemCommand).rejects(Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    await expect(storeOnMock().setValue('k', 1)).rejects.toMatchObject({ name: 'StoreRejectedError', kind: 'rejected', retryable: false });
  });

  it('an update whose version condition fails in the transaction is a StoreConflictError with the version now stored', async () => {
    const inc = incidentFor('inc-1');
    mock
      .on(GetItemCommand)
      .resolvesOnce({ Item: { version: { N: '1' }, parts: { N: '0' } } }) // the incident before the write
      .resolvesOnce({}) // no chain head yet
      .resolvesOnce({}) // and no summary of removed records to go on from
      .resolves({ Item: { version: { N: '2' } } }); // after the refusal: someone else wrote version 2
    mock.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));
    const err = await storeOnMock().updateIncident(nextVersion(inc, T), entry).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreConflictError);
    expect(err).toMatchObject({ incidentId: 'inc-1', expectedVersion: 1, actualVersion: 2 });
  });

  it('a transaction cancelled by a concurrent one surfaces as retryable, not as a conflict', async () => {
    mock.on(GetItemCommand).resolvesOnce({ Item: { version: { N: '1' }, parts: { N: '0' } } }).resolves({});
    mock.on(TransactWriteItemsCommand).rejects(cancelled('TransactionConflict', 'None', 'None'));
    await expect(storeOnMock().updateIncident(nextVersion(incidentFor('inc-1'), T), entry)).rejects.toMatchObject({ name: 'StoreUnavailableError', retryable: true });
  });

  it('a chain head that keeps moving ends in a retryable error after bounded attempts', async () => {
    mock.on(GetItemCommand).resolves({});
    mock.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed'));
    await expect(storeOnMock().appendAudit(entry)).rejects.toMatchObject({ name: 'StoreUnavailableError', retryable: true, message: expect.stringMatching(/kept moving under 8 attempts/) as unknown });
    expect(mock.commandCalls(TransactWriteItemsCommand)).toHaveLength(8);
  });

  it('getValues asks again for unprocessed keys, and gives up with a retryable error when they never come', async () => {
    mock
      .on(BatchGetItemCommand)
      .resolvesOnce({ Responses: { 'cloudops-test': [{ pk: { S: 'KV#a' }, sk: { S: 'KV' }, v: { S: '1' } }] }, UnprocessedKeys: { 'cloudops-test': { Keys: [{ pk: { S: 'KV#b' }, sk: { S: 'KV' } }] } } })
      .resolvesOnce({ Responses: { 'cloudops-test': [{ pk: { S: 'KV#b' }, sk: { S: 'KV' }, v: { S: '2' } }] } });
    expect(Object.fromEntries(await storeOnMock().getValues(['a', 'b']))).toEqual({ a: 1, b: 2 });
    expect(mock.commandCalls(BatchGetItemCommand)[1]?.args[0].input.RequestItems?.['cloudops-test']?.Keys).toEqual([{ pk: { S: 'KV#b' }, sk: { S: 'KV' } }]);

    mock.reset();
    mock.on(BatchGetItemCommand).resolves({ UnprocessedKeys: { 'cloudops-test': { Keys: [{ pk: { S: 'KV#b' }, sk: { S: 'KV' } }] } } });
    await expect(storeOnMock().getValues(['b'])).rejects.toMatchObject({ name: 'StoreThrottledError', retryable: true, message: expect.stringMatching(/still unprocessed after 6 attempts/) as unknown });
  });

  it('a listing reads every page', async () => {
    const doc = (approver: string, at: number) => ({ pk: { S: 'INC#i' }, sk: { S: `DEC#h#${approver}` }, doc: { S: JSON.stringify({ incidentId: 'i', approver, verdict: 'approve', runbookHash: 'h', at, channel: 'web', identity: approver }) } });
    mock
      .on(QueryCommand)
      .resolvesOnce({ Items: [doc('bob', 2)], LastEvaluatedKey: { pk: { S: 'INC#i' }, sk: { S: 'DEC#h#bob' } } })
      .resolvesOnce({ Items: [doc('alice', 1)] });
    expect((await storeOnMock().listDecisions('i')).map((d) => d.approver)).toEqual(['alice', 'bob']);
    expect(mock.commandCalls(QueryCommand)[1]?.args[0].input.ExclusiveStartKey).toEqual({ pk: { S: 'INC#i' }, sk: { S: 'DEC#h#bob' } });
  });

  it('ConditionFailed never leaves the store: a refused decision comes back as the existing one', async () => {
    expect(new ConditionFailed([0], 'op')).toBeInstanceOf(Error);
    const existing = { incidentId: 'i', approver: 'alice', verdict: 'approve', runbookHash: 'h', at: T, channel: 'web', identity: 'alice' };
    mock.on(GetItemCommand).resolvesOnce({}).resolvesOnce({}).resolves({ Item: { doc: { S: JSON.stringify(existing) } } }); // no head, no summary, then the decision
    mock.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));
    expect(await storeOnMock().addDecision({ ...existing, verdict: 'reject' } as never, entry)).toEqual({ added: false, existing });
  });
});
