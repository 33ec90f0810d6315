/** SQL for operators of the console and their sessions (kept apart from the portal users'). */
import type { Db } from '../db/database.ts';
import type { Operator, OperatorSessionsTable, OperatorsTable } from '../db/schema.ts';

export async function insertOperator(db: Db, o: OperatorsTable): Promise<void> {
  await db.insertInto('operators').values(o).execute();
}

export async function findOperatorByUsername(db: Db, username: string): Promise<Operator | undefined> {
  return db.selectFrom('operators').selectAll().where('username', '=', username).executeTakeFirst();
}

export async function findOperatorById(db: Db, id: string): Promise<Operator | undefined> {
  return db.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listOperators(db: Db): Promise<Operator[]> {
  return db.selectFrom('operators').selectAll().orderBy('username').execute();
}

/**
 * The account-wide half of a console login's attempt slot (L2, issue 10 item 3): one conditional statement counts
 * the attempt in advance unless the operator is locked or has `threshold` attempts in progress; null then.
 */
export async function takeOperatorAttempt(db: Db, id: string, threshold: number, now: number): Promise<number | null> {
  const r = await db
    .updateTable('operators')
    .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .where('failed_logins', '<', threshold)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .returning('failed_logins')
    .executeTakeFirst();
  return r ? r.failed_logins : null;
}

/** Locking starts the count again (as for portal users): after the lock, one more wrong password must not lock again. */
export async function lockOperatorUntil(db: Db, id: string, until: number, now: number): Promise<void> {
  await db
    .updateTable('operators')
    .set({ failed_logins: 0, locked_until: until, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function recordOperatorSuccess(db: Db, id: string, now: number): Promise<void> {
  await db
    .updateTable('operators')
    .set({ failed_logins: 0, locked_until: null, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function insertOperatorSession(db: Db, s: OperatorSessionsTable): Promise<void> {
  await db.insertInto('operator_sessions').values(s).execute();
}

export async function findOperatorSession(db: Db, idHash: string) {
  return db.selectFrom('operator_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
}

export async function touchOperatorSession(db: Db, idHash: string, now: number): Promise<void> {
  await db.updateTable('operator_sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
}

export async function deleteOperatorSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('operator_sessions').where('id_hash', '=', idHash).execute();
}

/** Ends every console session of the operator at once; returns how many there were. */
export async function deleteOperatorSessionsOf(db: Db, operatorId: string): Promise<number> {
  const r = await db.deleteFrom('operator_sessions').where('operator_id', '=', operatorId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Disables the operator: no login, and (with deleteOperatorSessionsOf in the same transaction) no session. */
export async function disableOperator(db: Db, id: string, now: number): Promise<void> {
  await db
    .updateTable('operators')
    .set({ status: 'disabled', disabled_at: now, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Enables the operator again, with a clean failure count and no lockout. */
export async function enableOperator(db: Db, id: string, now: number): Promise<void> {
  await db
    .updateTable('operators')
    .set({ status: 'active', disabled_at: null, failed_logins: 0, locked_until: null, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Sets a new password (already hashed) and lifts a lockout from failed logins. */
export async function setOperatorPassword(db: Db, id: string, passwordHash: string, now: number): Promise<void> {
  await db
    .updateTable('operators')
    .set({ password_hash: passwordHash, failed_logins: 0, locked_until: null, updated_at: now })
    .where('id', '=', id)
    .execute();
}
