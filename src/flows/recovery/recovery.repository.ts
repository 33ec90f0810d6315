/** SQL for password-reset flows and reset tokens. */
import type { Db, Dialect } from '../../db/database.ts';
import type {
  Flow,
  FlowsTable,
  ResetRequest,
  ResetRequestsTable,
  ResetToken,
  ResetTokensTable,
} from '../../db/schema.ts';
import { addressBucket } from '../../security/address-bucket.ts';

export async function insertFlow(db: Db, flow: FlowsTable): Promise<void> {
  await db.insertInto('flows').values(flow).execute();
}

export async function findFlow(db: Db, id: string): Promise<Flow | undefined> {
  return db.selectFrom('flows').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateFlow(db: Db, id: string, patch: Partial<Omit<FlowsTable, 'id'>>): Promise<void> {
  await db.updateTable('flows').set(patch).where('id', '=', id).execute();
}

/**
 * Takes the flow's current CAPTCHA challenge for one check (R6, K6): of requests sent in parallel with answers to the
 * same picture, only one finds it; the others see no challenge (a new one is drawn for them). Returns whether this
 * request took it.
 */
export async function takeCaptchaChallenge(db: Db, id: string, captchaHash: string): Promise<boolean> {
  const taken = await db
    .updateTable('flows')
    .set({ captcha_hash: null, captcha_expires_at: null })
    .where('id', '=', id)
    .where('captcha_hash', '=', captchaHash)
    .returning('id')
    .executeTakeFirst();
  return taken !== undefined;
}

/** Ends every open flow of an account (C3), except `keepId`. */
export async function expireFlowsOfUser(db: Db, userId: string, now: number, keepId: string): Promise<void> {
  await db
    .updateTable('flows')
    .set({ expires_at: now, updated_at: now })
    .where('user_id', '=', userId)
    .where('id', '!=', keepId)
    .where('expires_at', '>', now)
    .execute();
}

export async function deleteExpiredFlows(db: Db, before: number): Promise<void> {
  await db.deleteFrom('flows').where('expires_at', '<', before).execute();
}

export async function insertResetToken(db: Db, token: ResetTokensTable): Promise<void> {
  await db.insertInto('reset_tokens').values(token).execute();
}

export async function findResetTokenByHash(db: Db, tokenHash: string): Promise<ResetToken | undefined> {
  return db.selectFrom('reset_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function findResetTokenById(db: Db, id: string): Promise<ResetToken | undefined> {
  return db.selectFrom('reset_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Cancels every token of the account that is still open (a newer one replaces them: T2). */
export async function cancelOpenTokens(db: Db, userId: string, now: number, exceptId: string | null): Promise<void> {
  let q = db
    .updateTable('reset_tokens')
    .set({ cancelled_at: now })
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .where('cancelled_at', 'is', null);
  if (exceptId) q = q.where('id', '!=', exceptId);
  await q.execute();
}

/** Uses the token up; false when it was already used, cancelled or expired (a second tab, a race). */
export async function consumeResetToken(db: Db, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('reset_tokens')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function insertResetRequest(db: Db, r: ResetRequestsTable): Promise<void> {
  await db.insertInto('reset_requests').values(r).execute();
}

/** The oldest waiting requests, in the caller's transaction; on PostgreSQL locked so that no other instance takes them. */
export async function claimResetRequests(trx: Db, dialect: Dialect, limit: number): Promise<ResetRequest[]> {
  let q = trx.selectFrom('reset_requests').selectAll().orderBy('created_at').limit(limit);
  if (dialect === 'postgres') q = q.forUpdate().skipLocked();
  return q.execute();
}

export async function deleteResetRequests(db: Db, ids: string[]): Promise<void> {
  if (ids.length) await db.deleteFrom('reset_requests').where('id', 'in', ids).execute();
}

export async function insertResetTokens(db: Db, tokens: ResetTokensTable[]): Promise<void> {
  if (tokens.length) await db.insertInto('reset_tokens').values(tokens).execute();
}

/** Cancels every open token of these accounts (new ones replace them: T2). */
export async function cancelOpenTokensOfUsers(db: Db, userIds: string[], now: number): Promise<void> {
  if (userIds.length === 0) return;
  await db
    .updateTable('reset_tokens')
    .set({ cancelled_at: now })
    .where('user_id', 'in', userIds)
    .where('used_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .execute();
}

/**
 * Reset tokens issued since `since` per account and the source they were asked from (key: `<user id> <source>`,
 * the source 'dev:<digest>' or 'ip:<address bucket>'). Tokens from before sources were kept count on the bucket of
 * their address; the call center's tokens (no address) on none. Rows per account and hour are few (each is a mail
 * sent, under the limits), so the grouping by bucket is done here.
 */
export async function countTokensSinceByUserAndSource(
  db: Db,
  userIds: string[],
  since: number,
): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('reset_tokens')
    .select(['user_id', 'requested_ip', 'requested_source', (eb) => eb.fn.countAll<number>().as('n')])
    .where('user_id', 'in', userIds)
    .where('created_at', '>=', since)
    .where((eb) => eb.or([eb('requested_ip', 'is not', null), eb('requested_source', 'is not', null)]))
    .groupBy(['user_id', 'requested_ip', 'requested_source'])
    .execute();
  const counts = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.user_id} ${r.requested_source ?? `ip:${addressBucket(r.requested_ip!)}`}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(r.n));
  }
  return counts;
}

/** Tokens issued since `since`, per account. */
export async function countTokensSinceByUser(db: Db, userIds: string[], since: number): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('reset_tokens')
    .select(['user_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('user_id', 'in', userIds)
    .where('created_at', '>=', since)
    .groupBy('user_id')
    .execute();
  return new Map(rows.map((r) => [r.user_id, Number(r.n)]));
}
