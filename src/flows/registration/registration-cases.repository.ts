/** SQL for registration cases (a code held by a provisional account, waiting for the call-back). */
import type { Db } from '../../db/database.ts';
import type { RegistrationCase, RegistrationCasesTable } from '../../db/schema.ts';

export async function insertCase(db: Db, c: RegistrationCasesTable): Promise<void> {
  await db.insertInto('registration_cases').values(c).execute();
}

export async function findCaseById(db: Db, id: string): Promise<RegistrationCase | undefined> {
  return db.selectFrom('registration_cases').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The case opened by following this verification link (the registrant's completion page). */
export async function findCaseByVerification(db: Db, verificationId: string): Promise<RegistrationCase | undefined> {
  return db
    .selectFrom('registration_cases')
    .selectAll()
    .where('verification_id', '=', verificationId)
    .executeTakeFirst();
}

/** Pending cases oldest first (the call center works them in order), or decided ones newest first. */
export async function listCases(db: Db, status: 'pending' | 'decided', limit: number): Promise<RegistrationCase[]> {
  const q = db.selectFrom('registration_cases').selectAll().limit(limit);
  return status === 'pending'
    ? q.where('status', '=', 'pending').orderBy('created_at').execute()
    : q.where('status', '!=', 'pending').orderBy('decided_at', 'desc').execute();
}

export async function countPendingCases(db: Db): Promise<number> {
  const r = await db
    .selectFrom('registration_cases')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Decides a case if it is still pending; false when another operator (or a second click) decided it first.
 * The password hash is emptied either way: an approved account has its own copy, a rejected one needs none.
 */
export async function decideCase(
  db: Db,
  id: string,
  d: { status: 'approved' | 'rejected'; at: number; by: string; reason: string; newUserId: string | null },
): Promise<boolean> {
  const r = await db
    .updateTable('registration_cases')
    .set({
      status: d.status,
      decided_at: d.at,
      decided_by: d.by,
      decision_reason: d.reason,
      new_user_id: d.newUserId,
      password_hash: null,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
