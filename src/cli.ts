/**
 * The operator's command line: npm run cli -- <command>.
 *   migrate
 *   users create|list|show|lock|unlock|set-email …
 *   operators create|list …
 *   import legacy FILE.csv
 *   audit verify [--head CHAIN:HASH] [--heads FILE] | audit head [--append FILE]
 */
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from './config.ts';
import { migrateToLatest, openDatabase } from './db/database.ts';
import { importLegacyCsv } from './accounts/legacy-import.ts';
import { chainAllAudit } from './security/audit.repository.ts';
import { AUDIT_CHAIN_GRACE_MS } from './security/audit-pending.repository.ts';
import { auditKeyFrom } from './security/audit-key.ts';
import { AUDIT_USAGE, auditCommand } from './cli/audit.command.ts';
import { USERS_USAGE, usersCommand } from './cli/users.command.ts';
import { OPERATORS_USAGE, operatorsCommand } from './cli/operators.command.ts';

const USAGE = `Usage: npm run cli -- <command>
  migrate                      apply pending database migrations
${USERS_USAGE}
${OPERATORS_USAGE}
  import legacy FILE.csv       import accounts from the old portal (see README)
${AUDIT_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Configuration error: ${err.message}`);
      return 1;
    }
    throw err;
  }
  if (!cmd || cmd === 'help' || cmd === '--help') {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  const { db, dialect } = openDatabase(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous });
  const auditKey = auditKeyFrom(config.auditKey);
  const startedAt = Date.now();
  try {
    if (cmd === 'migrate') {
      const applied = await migrateToLatest(db);
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
      return 0;
    }
    await migrateToLatest(db);
    if (cmd === 'users') return await usersCommand(db, config, sub, rest);
    if (cmd === 'operators') return await operatorsCommand(db, sub, rest);
    if (cmd === 'import' && sub === 'legacy') {
      const file = rest[0];
      if (!file) {
        console.error(`Missing FILE.csv\n\n${USAGE}`);
        return 2;
      }
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        console.error(`Cannot read ${file}: ${(err as Error).message}`);
        return 1;
      }
      const r = await importLegacyCsv(db, text, Date.now());
      for (const x of r.rejected) console.error(`line ${x.line}: rejected: ${x.reason}`);
      console.log(
        `Read ${r.rows} row(s): imported ${r.imported} (${r.provisional} provisional), unchanged ${r.unchanged}, rejected ${r.rejected.length}.`,
      );
      return r.rejected.length ? 1 : 0;
    }
    if (cmd === 'audit') return await auditCommand(db, dialect, auditKey, sub, rest);
    console.error(`Unknown command: ${argv.join(' ')}\n\n${USAGE}`);
    return 2;
  } finally {
    // What this command wrote to the audit trail is chained before it exits, so that entries written while no
    // portal runs are not left to age past the grace window; the window is widened by the time the command ran
    // (a long import). `audit verify` writes nothing: chaining there would vouch for cleared entries (H12).
    try {
      if (!(cmd === 'audit' && sub === 'verify'))
        await chainAllAudit(db, dialect, auditKey, { graceMs: AUDIT_CHAIN_GRACE_MS + (Date.now() - startedAt) });
    } catch (err) {
      if (cmd !== 'migrate')
        console.error(
          `Warning: the audit trail was not chained now (${(err as Error).message}); a running portal chains it.`,
        );
    } finally {
      await db.destroy();
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    // An unknown option, a missing option value or a stray argument is a usage error (exit 2), like a missing option.
    if (
      typeof (err as { code?: unknown })?.code === 'string' &&
      (err as { code: string }).code.startsWith('ERR_PARSE_ARGS_')
    ) {
      console.error(`${(err as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`Failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
