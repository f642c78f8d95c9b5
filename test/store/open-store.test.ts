import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/compose.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { parsePolicy } from '../../src/policy/load.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const demo = readFileSync('config/demo.yaml', 'utf8');
const withStore = (store: string): string => demo.replace(/store:\n {2}kind: sqlite\n {2}path: .*\n/, `store:\n${store}`);

describe('the policy chooses the store', () => {
  it('SQLite stays the default; store.kind: dynamodb opens the named table in its region (account region by default)', async () => {
    const sqlite = openStore(compilePolicy(parsePolicy(demo.replace(/store:\n {2}kind: sqlite\n {2}path: .*\n/, '')), 'config/demo.yaml'), ':memory:');
    expect(sqlite).toBeInstanceOf(SqliteStore);
    await sqlite.close();
    const dynamo = openStore(compilePolicy(parsePolicy(withStore('  kind: dynamodb\n  table: cloudops-state\n  region: eu-west-1\n')), 'config/demo.yaml'), 'unused');
    expect(dynamo).toBeInstanceOf(DynamoStore);
    expect((dynamo as DynamoStore).table).toBe('cloudops-state');
    await dynamo.close();
    expect(parsePolicy(withStore('  kind: dynamodb\n  table: cloudops-state\n')).store).toEqual({ kind: 'dynamodb', table: 'cloudops-state', retention: '30d' });
  });

  it('a bad table name or region is refused by the policy loader, naming the field', () => {
    expect(() => parsePolicy(withStore('  kind: dynamodb\n  table: "no spaces allowed"\n'))).toThrow(/store\.table.*expected a DynamoDB table name/s);
    expect(() => parsePolicy(withStore('  kind: dynamodb\n  table: cloudops-state\n  region: mars\n'))).toThrow(/store\.region.*expected an AWS region/s);
    expect(() => parsePolicy(withStore('  kind: dynamodb\n  table: cloudops-state\n  path: x.db\n'))).toThrow(/store\.path: unknown key "path"/);
  });
});
