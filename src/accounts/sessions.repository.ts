/** SQL for login sessions. Only the SHA-256 of a session id is stored. */
import type { Db } from '../db/database.ts';
import type { Session, SessionsTable } from '../db/schema.ts';

export async function insertSession(db: Db, s: SessionsTable): Promise<void> {
  await db.insertInto('sessions').values(s).execute();
}

export async function findSession(db: Db, idHash: string): Promise<Session | undefined> {
  return db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
}

export async function touchSession(db: Db, idHash: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

/** Ends every session of an account (C3); returns how many there were. */
export async function deleteSessionsOfUser(db: Db, userId: string): Promise<number> {
  const r = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function deleteExpiredSessions(db: Db, now: number, idleMs: number): Promise<void> {
  await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - idleMs)]))
    .execute();
}

/** Ends every session of the account but the one in use (after a password change). */
export async function deleteOtherSessions(db: Db, userId: string, keepIdHash: string): Promise<number> {
  const r = await db
    .deleteFrom('sessions')
    .where('user_id', '=', userId)
    .where('id_hash', '!=', keepIdHash)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * Gives a session a new id (L3, V4) after a change of privilege (password changed, address confirmed): the old
 * cookie stops working, the session keeps its creation time and absolute expiry. False when it no longer exists.
 */
export async function rotateSession(db: Db, oldIdHash: string, newIdHash: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('sessions')
    .set({ id_hash: newIdHash, last_seen_at: now })
    .where('id_hash', '=', oldIdHash)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
