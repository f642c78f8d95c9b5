import { GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StoreRejectedError } from './errors.js';
import type { EpochMs } from '../core/time.js';
import { ConditionFailed, dynamoCall } from './dynamo-client.js';
import { key, N, num, S, str, type Item } from './dynamo-table.js';
import type { LeaseRecord, LeaseResult, LeaseStore } from './lease.js';

/**
 * The lease as one item and conditional writes. A takeover is a compare-and-set on the token the taker
 * saw, so of two tasks that find the lease expired only one gets the next token; a renewal is conditional
 * on owner and token, so a holder that lost the lease while paused cannot extend it. A release keeps the
 * item (and its token) and only clears the owner: tokens never go back, even after a clean shutdown.
 */
export class DynamoLeases implements LeaseStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async acquireLease(name: string, owner: string, now: EpochMs, ttlMs: number, signal?: AbortSignal): Promise<LeaseResult> {
    if (owner === '') throw new StoreRejectedError('acquireLease: owner must not be empty');
    if (!(ttlMs > 0)) throw new StoreRejectedError(`acquireLease: ttlMs must be positive, got ${ttlMs}`);
    const expiresAt = (now + ttlMs) as EpochMs;
    const current = await this.readRaw(name, signal);
    try {
      if (current && current.owner === owner) {
        // Renewal: same token; fails if someone took it over since we read it.
        await dynamoCall('dynamodb.UpdateItem(renew lease)', signal, (o) =>
          this.client.send(
            new UpdateItemCommand({
              TableName: this.table,
              Key: key(`LEASE#${name}`, 'LEASE'),
              UpdateExpression: 'SET expiresAt = :e',
              ConditionExpression: '#o = :o AND #t = :t',
              ExpressionAttributeNames: { '#o': 'owner', '#t': 'token' },
              ExpressionAttributeValues: { ':e': N(expiresAt), ':o': S(owner), ':t': N(current.token) },
            }),
            o,
          ),
        );
        return { held: true, lease: { ...current, expiresAt } };
      }
      if (current && current.owner !== '' && current.expiresAt > now) return { held: false, holder: current };
      const token = (current?.token ?? 0) + 1;
      const lease: LeaseRecord = { name, owner, token, expiresAt, acquiredAt: now };
      await dynamoCall('dynamodb.PutItem(take lease)', signal, (o) =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { ...key(`LEASE#${name}`, 'LEASE'), owner: S(owner), token: N(token), expiresAt: N(expiresAt), acquiredAt: N(now) },
            ...(current
              ? { ConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': 'token' }, ExpressionAttributeValues: { ':t': N(current.token) } }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
          o,
        ),
      );
      return { held: true, lease };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      // Another task won the race: report who holds it now.
      const holder = await this.readLease(name, signal);
      return { held: false, holder };
    }
  }

  async releaseLease(name: string, owner: string, token: number, signal?: AbortSignal): Promise<boolean> {
    try {
      await dynamoCall('dynamodb.UpdateItem(release lease)', signal, (o) =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: key(`LEASE#${name}`, 'LEASE'),
            UpdateExpression: 'SET #o = :none, expiresAt = :zero',
            ConditionExpression: '#o = :o AND #t = :t',
            ExpressionAttributeNames: { '#o': 'owner', '#t': 'token' },
            ExpressionAttributeValues: { ':none': S(''), ':zero': N(0), ':o': S(owner), ':t': N(token) },
          }),
          o,
        ),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
  }

  /** The current holder, or null when nobody holds it (never taken, or released). */
  async readLease(name: string, signal?: AbortSignal): Promise<LeaseRecord | null> {
    const raw = await this.readRaw(name, signal);
    return raw && raw.owner !== '' ? raw : null;
  }

  private async readRaw(name: string, signal?: AbortSignal): Promise<LeaseRecord | null> {
    const out = await dynamoCall('dynamodb.GetItem(lease)', signal, (o) =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: key(`LEASE#${name}`, 'LEASE'), ConsistentRead: true }), o),
    );
    return out.Item ? leaseOf(name, out.Item) : null;
  }
}

function leaseOf(name: string, item: Item): LeaseRecord {
  return { name, owner: str(item, 'owner'), token: num(item, 'token'), expiresAt: num(item, 'expiresAt') as EpochMs, acquiredAt: num(item, 'acquiredAt') as EpochMs };
}
