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

export async function recordOperatorFailure(db: Db, id: string, now: number, lockUntil: number | null): Promise<void> {
  await db
    .updateTable('operators')
    // Locking starts the count again (as for portal users): after the lock, one more wrong password must not lock again.
    .set((eb) => ({ failed_logins: lockUntil ? 0 : eb('failed_logins', '+', 1), updated_at: now, ...(lockUntil ? { locked_until: lockUntil } : {}) }))
    .where('id', '=', id)
    .execute();
}

export async function recordOperatorSuccess(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('operators').set({ failed_logins: 0, locked_until: null, updated_at: now }).where('id', '=', id).execute();
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
  await db.updateTable('operators').set({ status: 'disabled', disabled_at: now, updated_at: now }).where('id', '=', id).execute();
}

/** Enables the operator again, with a clean failure count and no lockout. */
export async function enableOperator(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('operators').set({ status: 'active', disabled_at: null, failed_logins: 0, locked_until: null, updated_at: now }).where('id', '=', id).execute();
}

/** Sets a new password (already hashed) and lifts a lockout from failed logins. */
export async function setOperatorPassword(db: Db, id: string, passwordHash: string, now: number): Promise<void> {
  await db.updateTable('operators').set({ password_hash: passwordHash, failed_logins: 0, locked_until: null, updated_at: now }).where('id', '=', id).execute();
}
