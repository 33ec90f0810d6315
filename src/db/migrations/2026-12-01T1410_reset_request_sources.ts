// Frozen: never edit a migration that has landed; add a new one.
// Reset mails are limited per (account, source) like login failures (red team item 3): the source is the owner's
// device cookie or the address's limit unit (an IPv4 address, an IPv6 /64). Stage ② keeps the browser's device
// cookie with its request, sealed (it is a bearer secret), for the worker to check against the account; a token
// remembers the source it was asked from, so that the owner's own device or network is counted apart.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('reset_requests').addColumn('device_cookie_sealed', 'text').execute();
  await db.schema.alterTable('reset_tokens').addColumn('requested_source', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('reset_tokens').dropColumn('requested_source').execute();
  await db.schema.alterTable('reset_requests').dropColumn('device_cookie_sealed').execute();
}
