// Frozen: never edit a migration that has landed; add a new one.
// A registration for an institution code held by a provisional account does not close that account: it waits here
// until the call center has called the institution back and approved or rejected it (issue 10 item 5).
// The registrant's password is kept only as an argon2id hash, emptied when the case is decided.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('registration_cases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('verification_id', 'text', (c) => c.notNull().unique())
    .addColumn('institution_code', 'text', (c) => c.notNull())
    .addColumn('holder_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('institution_name', 'text', (c) => c.notNull())
    .addColumn('contact_name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('lang', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .addColumn('decided_by', 'text')
    .addColumn('decision_reason', 'text')
    .addColumn('new_user_id', 'text')
    .execute();
  await db.schema
    .createIndex('registration_cases_status_idx')
    .on('registration_cases')
    .columns(['status', 'created_at'])
    .execute();
  await db.schema
    .createIndex('registration_cases_code_idx')
    .on('registration_cases')
    .column('institution_code')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('registration_cases').execute();
}
