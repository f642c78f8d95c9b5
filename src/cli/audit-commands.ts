import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { openStore } from '../compose.js';
import { errorMessage } from '../core/errors.js';
import { parseDuration, type EpochMs } from '../core/time.js';
import { compilePolicy } from '../policy/compile.js';
import { loadPolicyFile } from '../policy/load.js';
import { AUDIT_KEY_ENV, auditKeyFrom } from '../store/audit-chain.js';
import { DynamoStore } from '../store/dynamo-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Fail } from './daemon-post.js';

const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

interface StoreOptions {
  readonly policy: string;
  readonly db?: string;
  readonly dataDir?: string;
}

/** The SQLite file the options name (--db, or the policy's store under --data-dir), or a DynamoDB store; exits 2 when the file is missing. */
function storeFor(o: StoreOptions, fail: Fail): { store: SqliteStore | DynamoStore; where: string } {
  let file = o.db;
  const p = file ? null : compilePolicy(loadPolicyFile(o.policy).policy, o.policy);
  if (p && p.doc.store.kind === 'dynamodb') return { store: openStore(p, ''), where: `dynamodb table ${p.doc.store.table}, ${p.doc.store.region ?? p.doc.account.region}` };
  if (!file) {
    if (!p?.storePath) return fail('the policy does not use a SQLite store; pass --db');
    const dir = resolve(o.dataDir ?? process.env['CLOUDOPS_DATA_DIR'] ?? '.');
    file = isAbsolute(p.storePath) ? p.storePath : join(dir, p.storePath);
  }
  // Opening a missing file would create an empty store that then verifies as "intact: 0 records".
  if (!existsSync(file)) {
    process.stderr.write(`no audit store at ${file}: nothing to verify (check --db, --data-dir or the policy's store)\n`);
    process.exit(2);
  }
  return { store: new SqliteStore(file, { auditKey: auditKeyFrom(process.env[AUDIT_KEY_ENV]) }), where: file };
}

/**
 * `cloudops audit verify`: the hash chain, its signed head checkpoint and (after records were removed
 * past retention) the signed summary the chain starts after. `cloudops audit prune --older-than D`:
 * removes SQLite records older than D under a new signed summary.
 */
export function registerAuditCommands(program: Command, fail: Fail): void {
  const audit = program.command('audit').description('the audit trail');
  audit
    .command('verify')
    .description(`check the hash chain, its signed checkpoint and the signed summary of removed records (key in ${AUDIT_KEY_ENV}); exits 1 naming the first bad or missing record when the trail was altered or cut off, 2 when there is nothing to verify`)
    .option('--policy <file>', 'the policy whose store to check', 'config/demo.yaml')
    .option('--db <file>', 'the SQLite file (instead of --policy)')
    .option('--data-dir <dir>', 'as given to run')
    .option('--json', 'machine-readable output')
    .action(async (o: StoreOptions & { json?: boolean }) => {
      const { store, where } = storeFor(o, fail);
      let v: Awaited<ReturnType<SqliteStore['verifyAnchoredAudit']>>;
      try {
        v = await store.verifyAnchoredAudit();
      } catch (err) {
        if (store instanceof DynamoStore && /not found/i.test(errorMessage(err))) {
          process.stderr.write(`no audit store in ${where}: nothing to verify (${errorMessage(err)})\n`);
          process.exit(2);
        }
        throw err;
      } finally {
        await store.close();
      }
      if (o.json) {
        out(JSON.stringify({ store: where, ...v }));
        process.exit(v.ok ? 0 : v.cannotVerify ? 2 : 1);
      }
      if (v.ok) {
        const anchor = { signed: 'head anchored by a signed checkpoint', unsigned: `head anchored by an UNSIGNED checkpoint (set ${AUDIT_KEY_ENV} so a rewritten checkpoint is caught too)`, empty: 'empty store, no incidents' }[v.anchor];
        const summarized = v.summarized ? `; records 1–${v.summarized.through} removed past retention under a signed summary of ${new Date(v.summarized.at).toISOString()}` : '';
        return out(`audit chain intact: ${v.records} records, ${anchor}${summarized} (${where})`);
      }
      process.stderr.write(`audit chain ${v.cannotVerify ? 'NOT VERIFIED' : 'BROKEN'} at record ${v.firstBadSeq}: ${v.problem} (${where})\n`);
      process.exit(v.cannotVerify ? 2 : 1);
    });
  audit
    .command('prune')
    .description(`remove SQLite audit records older than a duration, of archived incidents and of no incident, under a signed summary (needs ${AUDIT_KEY_ENV}); the trail still verifies`)
    .requiredOption('--older-than <duration>', 'e.g. 400d')
    .option('--policy <file>', 'the policy whose store to prune', 'config/demo.yaml')
    .option('--db <file>', 'the SQLite file (instead of --policy)')
    .option('--data-dir <dir>', 'as given to run')
    .option('--json', 'machine-readable output: { removed, through, store }')
    .action(async (o: StoreOptions & { olderThan: string; json?: boolean }) => {
      let age: number;
      try {
        age = parseDuration(o.olderThan);
      } catch (err) {
        return fail(`--older-than: ${errorMessage(err)}`, 2);
      }
      const { store, where } = storeFor(o, fail);
      if (!(store instanceof SqliteStore)) {
        await store.close();
        return fail('audit prune is for a SQLite store: on DynamoDB old items expire by TTL', 2);
      }
      try {
        const now = Date.now() as EpochMs;
        const r = await store.pruneAudit((now - age) as EpochMs, now);
        if (o.json) out(JSON.stringify({ removed: r.through === null ? 0 : r.removed, through: r.through, store: where }));
        else out(r.through === null ? `nothing to remove (${where})` : `removed ${r.removed} audit records (1–${r.through}) under a signed summary (${where})`);
      } catch (err) {
        return fail(errorMessage(err));
      } finally {
        await store.close();
      }
    });
}
