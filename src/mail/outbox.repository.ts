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
  await db
    .insertInto('outbox')
    .values({
      id,
      kind: mail.kind,
      user_id: mail.userId,
      to_addr: mail.to,
      subject: mail.subject,
      body_enc: box.seal(mail.text),
      status: 'queued',
      attempts: 0,
      next_attempt_at: now,
      claimed_until: null,
      last_error: null,
      created_at: now,
      sent_at: null,
    })
    .execute();
  await addMailEvent(db, id, now, 'queued', null);
  return id;
}

export async function addMailEvent(db: Db, outboxId: string, at: number, event: 'queued' | 'sent' | 'retry' | 'failed', detail: string | null): Promise<void> {
  await db.insertInto('mail_events').values({ id: randomId(), outbox_id: outboxId, at, event, detail }).execute();
}

/**
 * Claims up to `limit` due mails for this worker until `claimUntil`. On PostgreSQL the rows are
 * locked with SKIP LOCKED so that several instances never claim the same mail; a claim that
 * expires (its worker died) is taken over.
 */
export async function claimDueMails(db: Db, dialect: Dialect, now: number, claimUntil: number, limit: number): Promise<OutboxMail[]> {
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
    .set((eb) => ({ status: 'sent', sent_at: now, body_enc: '', claimed_until: null, last_error: null, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .execute();
  await addMailEvent(db, id, now, 'sent', null);
}

export async function markMailRetry(db: Db, id: string, now: number, attempts: number, nextAt: number, error: string): Promise<void> {
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
    .set({ status: 'failed', attempts, claimed_until: null, last_error: error, body_enc: '' })
    .where('id', '=', id)
    .execute();
  await addMailEvent(db, id, now, 'failed', error);
}

/** Gives back mails this worker claimed but did not deliver (graceful shutdown). */
export async function releaseClaims(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('outbox').set({ status: 'queued', claimed_until: null }).where('id', 'in', ids).where('status', '=', 'sending').execute();
}
