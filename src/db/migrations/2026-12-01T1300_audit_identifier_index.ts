// Frozen: never edit a migration that has landed; add a new one.
// The call center's account page lists stage-① attempts by the name typed (issue 11 item 5), and the account
// search lists reset attempts by it: an index on (identifier, seq) keeps both a lookup however long the trail grows.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('audit_identifier_idx').on('audit_log').columns(['identifier', 'seq']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_identifier_idx').execute();
}
