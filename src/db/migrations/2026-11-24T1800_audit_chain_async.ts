// Frozen: never edit a migration that has landed; add a new one.
// The audit trail is chained in the background (security/audit.repository.ts): an entry is one INSERT in the
// caller's transaction, with no lock; one chainer at a time gives it its place in the chain (`chain`) and its
// hashes. `seq` becomes the order of insertion, numbered by the database. Each insert touches as few indexes as
// possible (the table, account, event, and the small index of entries waiting to be chained). Existing entries keep their hashes:
// their chain position is their old seq, which their hash already covers.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('audit_log_next')
    // SQLite: the rowid itself (no AUTOINCREMENT, whose counter table would be one more page written per entry).
    .addColumn('seq', pg ? 'bigint' : 'integer', (c) =>
      pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey(),
    )
    // Random 128-bit ids: no unique index to maintain on every insert (entries are found by seq, account or event).
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('identifier', 'text')
    .addColumn('actor', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('detail', 'text')
    .addColumn('chain', 'bigint', (c) => c.unique())
    .addColumn('prev_hash', 'text')
    .addColumn('hash', 'text')
    .execute();
  await sql`insert into audit_log_next (seq, id, at, event, outcome, user_id, identifier, actor, ip, user_agent, detail, chain, prev_hash, hash)
    select seq, id, at, event, outcome, user_id, identifier, actor, ip, user_agent, detail, seq, prev_hash, hash from audit_log`.execute(
    db,
  );
  await db.schema.dropTable('audit_log').execute();
  await db.schema.alterTable('audit_log_next').renameTo('audit_log').execute();
  if (pg)
    await sql`select setval(pg_get_serial_sequence('audit_log', 'seq'), coalesce((select max(seq) from audit_log), 0) + 1, false)`.execute(
      db,
    );
  await db.schema.createIndex('audit_user_idx').on('audit_log').columns(['user_id', 'at']).execute();
  await db.schema.createIndex('audit_event_idx').on('audit_log').columns(['event', 'at']).execute();
  await db.schema
    .createIndex('audit_pending_idx')
    .on('audit_log')
    .column('seq')
    .where(sql.ref('chain'), 'is', null)
    .execute();
}
