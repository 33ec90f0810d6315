// Frozen: never edit a migration that has landed; add a new one.
// Stage ② of the reset writes one reset request, whatever the account (R2: the same work, the same time);
// the worker decides its outcome, issues the token and queues the mail (flows/recovery/recovery.flow.ts).
// A flow keeps its CAPTCHA's answer (sealed) instead of the picture; the picture is drawn when fetched (captcha.ts).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('reset_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('flow_id', 'text', (c) => c.notNull())
    .addColumn('identifier', 'text', (c) => c.notNull())
    .addColumn('email_hmac', 'text', (c) => c.notNull())
    .addColumn('lang', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .addColumn('ip_limited', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reset_requests_created_idx').on('reset_requests').column('created_at').execute();
  await db.schema.alterTable('flows').addColumn('captcha_answer', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('flows').dropColumn('captcha_answer').execute();
  await db.schema.dropTable('reset_requests').execute();
}
