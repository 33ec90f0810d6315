/**
 * The durable outbox: a mail is written in the same transaction as the change that causes it,
 * and delivered later by the worker. Bodies are sealed (they may hold a reset link).
 */
import type { Db, Dialect } from '../db/database.ts';
import type { OutboxMail } from '../db/schema.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { randomId } from '../security/tokens.ts';

export interface NewMail {
  kind: string;
  userId: string | null;
  to: string;
  subject: string;
  text: string;
}

export async function enqueueMail(db: Db, box: SecretBox, now: number, mail: NewMail): Promise<string> {
  const id = randomId();
  await enqueueMails(db, box, now, [{ ...mail, id }]);
  return id;
}

/** Queues several mails (ids given by the caller) with one statement for the mails and one for their events. */
export async function enqueueMails(
  db: Db,
  box: SecretBox,
  now: number,
  mails: Array<NewMail & { id: string }>,
): Promise<void> {
  if (mails.length === 0) return;
  await db
    .insertInto('outbox')
    .values(
      mails.map((m) => ({
        id: m.id,
        kind: m.kind,
        user_id: m.userId,
        to_addr: m.to,
        subject: m.subject,
        body_enc: box.seal(m.text),
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        claimed_until: null,
        last_error: null,
        created_at: now,
        sent_at: null,
      })),
    )
    .execute();
  await db
    .insertInto('mail_events')
    .values(mails.map((m) => ({ id: randomId(), outbox_id: m.id, at: now, event: 'queued', detail: null })))
    .execute();
}

export async function addMailEvent(
  db: Db,
  outboxId: string,
  at: number,
  event: 'queued' | 'sent' | 'retry' | 'failed',
  detail: string | null,
): Promise<void> {
  await db.insertInto('mail_events').values({ id: randomId(), outbox_id: outboxId, at, event, detail }).execute();
}

/**
 * Claims up to `limit` due mails for this worker until `claimUntil`. On PostgreSQL the rows are
 * locked with SKIP LOCKED so that several instances never claim the same mail; a claim that
 * expires (its worker died) is taken over.
 */
export async function claimDueMails(
  db: Db,
  dialect: Dialect,
  now: number,
  claimUntil: number,
  limit: number,
): Promise<OutboxMail[]> {
  return db.transaction().execute(async (trx) => {
    let q = trx
      .selectFrom('outbox')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
          eb.and([eb('status', '=', 'sending'), eb('claimed_until', '<', now)]),
        ]),
      )
      .orderBy('next_attempt_at')
      .limit(limit);
    if (dialect === 'postgres') q = q.forUpdate().skipLocked();
    const ids = (await q.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    return trx
      .updateTable('outbox')
      .set({ status: 'sending', claimed_until: claimUntil })
      .where('id', 'in', ids)
      .returningAll()
      .execute();
  });
}

export async function markMailSent(db: Db, id: string, now: number): Promise<void> {
  await db
    .updateTable('outbox')
    .set((eb) => ({
      status: 'sent',
      sent_at: now,
      body_enc: '',
      claimed_until: null,
      last_error: null,
      attempts: eb('attempts', '+', 1),
    }))
    .where('id', '=', id)
    .execute();
  await addMailEvent(db, id, now, 'sent', null);
}

export async function markMailRetry(
  db: Db,
  id: string,
  now: number,
  attempts: number,
  nextAt: number,
  error: string,
): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ status: 'queued', attempts, next_attempt_at: nextAt, claimed_until: null, last_error: error })
    .where('id', '=', id)
    .execute();
  await addMailEvent(db, id, now, 'retry', error);
}

export async function markMailFailed(db: Db, id: string, now: number, attempts: number, error: string): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ status: 'failed', attempts, claimed_until: null, last_error: error })
    .where('id', '=', id)
    .execute();
  await addMailEvent(db, id, now, 'failed', error);
}

/** Gives back mails this worker claimed but did not deliver (graceful shutdown). */
export async function releaseClaims(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('outbox')
    .set({ status: 'queued', claimed_until: null })
    .where('id', 'in', ids)
    .where('status', '=', 'sending')
    .execute();
}

export interface OutboxStats {
  queued: number;
  failed: number;
  sentLast24h: number;
  oldestUndeliveredAt: number | null;
  /** Stage-② reset requests not decided yet (the worker turns them into mail), and the oldest one's time. */
  resetRequestsWaiting: number;
  oldestResetRequestAt: number | null;
}

export async function outboxStats(db: Db, now: number): Promise<OutboxStats> {
  const rows = await db
    .selectFrom('outbox')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('created_at').as('oldest')])
    .groupBy('status')
    .execute();
  const sent = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'sent')
    .where('sent_at', '>=', now - 86_400_000)
    .executeTakeFirstOrThrow();
  let queued = 0,
    failed = 0;
  let oldest: number | null = null;
  for (const r of rows) {
    const n = Number(r.n);
    if (r.status === 'queued' || r.status === 'sending') {
      queued += n;
      const o = r.oldest === null ? null : Number(r.oldest);
      if (o !== null && (oldest === null || o < oldest)) oldest = o;
    }
    if (r.status === 'failed') failed += n;
  }
  const waiting = await db
    .selectFrom('reset_requests')
    .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('created_at').as('oldest')])
    .executeTakeFirstOrThrow();
  return {
    queued,
    failed,
    sentLast24h: Number(sent.n),
    oldestUndeliveredAt: oldest,
    resetRequestsWaiting: Number(waiting.n),
    oldestResetRequestAt: waiting.oldest === null ? null : Number(waiting.oldest),
  };
}

/** Mail not delivered yet or given up on, oldest first (no bodies). */
export async function listUndelivered(db: Db, limit: number): Promise<OutboxMail[]> {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('status', 'in', ['queued', 'sending', 'failed'])
    .orderBy('created_at')
    .limit(limit)
    .execute();
}

export async function listMailsOfUser(db: Db, userId: string, limit: number): Promise<OutboxMail[]> {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

export async function listMailEvents(db: Db, outboxIds: string[]) {
  if (outboxIds.length === 0) return [];
  return db.selectFrom('mail_events').selectAll().where('outbox_id', 'in', outboxIds).orderBy('at').execute();
}

/** Makes queued and failed mail due now (failed mail gets its attempts back); `id` limits it to one mail. */
export async function retryNow(db: Db, now: number, id?: string): Promise<number> {
  let q = db
    .updateTable('outbox')
    .set({ status: 'queued', next_attempt_at: now, attempts: 0, claimed_until: null })
    .where('status', 'in', ['queued', 'failed'])
    .where('body_enc', '!=', '');
  if (id) q = q.where('id', '=', id);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}
