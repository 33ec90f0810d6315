// Frozen: never edit a migration that has landed; add a new one.
// Login failures counted per (account, source) — a source is an IP address or a signed device cookie — so that
// failures from elsewhere cannot lock the owner's own browser or network out (L2); the networks an account logged
// in from; and the address a reset mail was asked from (reset-mail limits per account and IP: R3).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('login_throttle')
    // 'u:<user id>' or 'o:<operator id>'
    .addColumn('subject', 'text', (c) => c.notNull())
    // 'ip:<address>' or 'dev:<digest of the device id>'
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    // Locks of this source so far; the next lasts longer. Starts again after a quiet day.
    .addColumn('lock_count', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('login_throttle_pk', ['subject', 'source'])
    .execute();
  await db.schema.createIndex('login_throttle_updated_idx').on('login_throttle').column('updated_at').execute();

  await db.schema
    .createTable('login_networks')
    .addColumn('subject', 'text', (c) => c.notNull())
    // An IPv4 address, or the /64 of an IPv6 address
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('last_success_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('login_networks_pk', ['subject', 'network'])
    .execute();

  await db.schema.alterTable('reset_tokens').addColumn('requested_ip', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('reset_tokens').dropColumn('requested_ip').execute();
  await db.schema.dropTable('login_networks').execute();
  await db.schema.dropTable('login_throttle').execute();
}
