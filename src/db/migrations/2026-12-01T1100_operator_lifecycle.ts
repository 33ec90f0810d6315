// Frozen: never edit a migration that has landed; add a new one.
// Operators' life cycle (issue 10, item 12): when an operator was disabled, and who set a portal account's lock
// (failures | support | admin | cli), so that support cannot lift an admin's lock and a reset keeps an operator's lock.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('operators').addColumn('disabled_at', 'bigint').execute();
  await db.schema.alterTable('users').addColumn('locked_by', 'text').execute();
  // Locks that exist already: a lock with an end came from failed logins; one without an end from the CLI
  // (the only way to set one before this migration).
  await db
    .updateTable('users')
    .set({ locked_by: 'failures' })
    .where('status', '=', 'locked')
    .where('locked_until', 'is not', null)
    .execute();
  await db
    .updateTable('users')
    .set({ locked_by: 'cli' })
    .where('status', '=', 'locked')
    .where('locked_until', 'is', null)
    .execute();
  await db
    .updateTable('operators')
    .set((eb) => ({ disabled_at: eb.ref('updated_at') }))
    .where('status', '=', 'disabled')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('locked_by').execute();
  await db.schema.alterTable('operators').dropColumn('disabled_at').execute();
}
