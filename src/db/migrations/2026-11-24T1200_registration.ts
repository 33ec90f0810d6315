// Frozen: never edit a migration that has landed; add a new one.
// Registration, coordinators' institutions, e-mail verification, accounts imported from the old portal.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('institution_name', 'text').execute();
  await db.schema.alterTable('users').addColumn('phone', 'text').execute();
  await db.schema.alterTable('users').addColumn('legacy_hash', 'text').execute();
  await db.schema.alterTable('users').addColumn('email_verified_at', 'bigint').execute();
  // One institution-user account per institution code (closed accounts and coordinators aside).
  await sql`create unique index users_institution_code_uq on users (institution_code) where account_type = 'institution' and status <> 'closed'`.execute(
    db,
  );
  await db.schema.createIndex('users_email_idx').on('users').column('email').execute();

  await db.schema
    .createTable('coordinator_institutions')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('institution_code', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('coordinator_institutions_pk', ['user_id', 'institution_code'])
    .execute();

  await db.schema
    .createTable('email_verifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('payload_enc', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('cancelled_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('email_verifications_email_idx')
    .on('email_verifications')
    .columns(['email', 'created_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('email_verifications').execute();
  await db.schema.dropTable('coordinator_institutions').execute();
  await sql`drop index users_institution_code_uq`.execute(db);
  await db.schema.dropIndex('users_email_idx').execute();
  for (const c of ['email_verified_at', 'legacy_hash', 'phone', 'institution_name'])
    await db.schema.alterTable('users').dropColumn(c).execute();
}
