/** SQL for e-mail verification links (registration, change of address). Only token hashes are stored. */
import type { Db } from '../db/database.ts';
import type { EmailVerification, EmailVerificationsTable } from '../db/schema.ts';

export async function insertVerification(db: Db, v: EmailVerificationsTable): Promise<void> {
  await db.insertInto('email_verifications').values(v).execute();
}

export async function findVerificationByHash(db: Db, tokenHash: string): Promise<EmailVerification | undefined> {
  return db.selectFrom('email_verifications').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function findVerificationById(db: Db, id: string): Promise<EmailVerification | undefined> {
  return db.selectFrom('email_verifications').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function countVerificationsSince(db: Db, email: string, since: number): Promise<number> {
  const r = await db
    .selectFrom('email_verifications')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('email', '=', email)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A newer link for the same purpose and address (or account) cancels the older ones. */
export async function cancelOpenVerifications(
  db: Db,
  purpose: EmailVerification['purpose'],
  key: { email?: string; userId?: string },
  now: number,
): Promise<void> {
  let q = db
    .updateTable('email_verifications')
    .set({ cancelled_at: now })
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('cancelled_at', 'is', null);
  if (key.email) q = q.where('email', '=', key.email);
  if (key.userId) q = q.where('user_id', '=', key.userId);
  await q.execute();
}

/** Records the account a registration link created, so that the used link can later say the registration is complete. */
export async function setVerificationAccount(db: Db, id: string, userId: string): Promise<void> {
  await db.updateTable('email_verifications').set({ user_id: userId }).where('id', '=', id).execute();
}

export async function consumeVerification(db: Db, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('email_verifications')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
