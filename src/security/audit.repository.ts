/**
 * The audit trail (A1, A2): append-only, each entry chained to the previous one by SHA-256.
 * Never given a password, token or CAPTCHA answer: callers pass only outcomes and ids.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, Dialect } from '../db/database.ts';
import type { AuditEntry } from '../db/schema.ts';
import { randomId } from './tokens.ts';

export interface AuditInput {
  event: string;
  outcome: string;
  userId?: string | null;
  identifier?: string | null;
  actor?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  detail?: Record<string, unknown> | null;
}

export const GENESIS = '0'.repeat(64);

function entryHash(prev: string, e: Omit<AuditEntry, 'hash' | 'prev_hash'>): string {
  const canonical = JSON.stringify([
    e.seq, e.id, e.at, e.event, e.outcome, e.user_id, e.identifier, e.actor, e.ip, e.user_agent, e.detail,
  ]);
  return createHash('sha256').update(prev + '\n' + canonical, 'utf8').digest('hex');
}

const AUDIT_LOCK_KEY = 781_245_001;

/** Appends one entry. Runs in the caller's transaction when given one, else in its own. */
export async function appendAudit(db: Db, dialect: Dialect, at: number, input: AuditInput): Promise<void> {
  const write = async (trx: Db) => {
    // One writer at a time keeps the chain linear across instances (SQLite serialises writers itself).
    if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(trx);
    // SQLite: take the write lock before reading the chain's head. A read-then-write transaction fails at once
    // with SQLITE_BUSY when another process (the CLI beside the server) writes in between; a write waits.
    else await sql`update audit_log set seq = seq where seq = -1`.execute(trx);
    const last = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const row = {
      seq: (last?.seq ?? 0) + 1,
      id: randomId(),
      at,
      event: input.event,
      outcome: input.outcome,
      user_id: input.userId ?? null,
      identifier: input.identifier ? input.identifier.slice(0, 200) : null,
      actor: input.actor ?? null,
      ip: input.ip ?? null,
      user_agent: input.userAgent ? input.userAgent.slice(0, 300) : null,
      detail: input.detail ? JSON.stringify(input.detail) : null,
    };
    const prev = last?.hash ?? GENESIS;
    await trx.insertInto('audit_log').values({ ...row, prev_hash: prev, hash: entryHash(prev, row) }).execute();
  };
  if (db.isTransaction) await write(db);
  else await db.transaction().execute(write);
}

export interface AuditProblem {
  seq: number;
  problem: 'altered' | 'removed-before' | 'broken-link';
}

/** Walks the whole chain and names every entry that was altered or that follows a removed one (A2). */
export async function verifyAudit(db: Db): Promise<{ count: number; problems: AuditProblem[] }> {
  const problems: AuditProblem[] = [];
  let prevHash = GENESIS;
  let prevSeq = 0;
  let count = 0;
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq').limit(1000).execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      count++;
      if (r.seq !== prevSeq + 1) problems.push({ seq: r.seq, problem: 'removed-before' });
      else if (r.prev_hash !== prevHash) problems.push({ seq: r.seq, problem: 'broken-link' });
      const { hash, prev_hash, ...rest } = r;
      if (entryHash(prev_hash, rest) !== hash) problems.push({ seq: r.seq, problem: 'altered' });
      prevHash = hash;
      prevSeq = r.seq;
      after = r.seq;
    }
  }
  return { count, problems };
}

/** Entries of one account, newest first. */
export async function listAuditForUser(db: Db, userId: string, limit = 100): Promise<AuditEntry[]> {
  return db.selectFrom('audit_log').selectAll().where('user_id', '=', userId).orderBy('seq', 'desc').limit(limit).execute();
}

export interface AuditFilter {
  userId?: string | undefined;
  actor?: string | undefined;
  eventPrefix?: string | undefined;
  identifier?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  limit: number;
}

function escapeLike(v: string): string {
  return v.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Audit entries matching every given filter, newest first (A3). */
export async function searchAudit(db: Db, f: AuditFilter): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(f.limit);
  if (f.userId) q = q.where('user_id', '=', f.userId);
  // A typed % or _ matches itself (ESCAPE on SQLite too), so that 'password_reset' finds password_reset.* events.
  if (f.actor) q = q.where(sql<boolean>`actor like ${`%${escapeLike(f.actor)}%`} escape '\\'`);
  if (f.eventPrefix) q = q.where(sql<boolean>`event like ${`${escapeLike(f.eventPrefix)}%`} escape '\\'`);
  if (f.identifier) q = q.where('identifier', '=', f.identifier);
  if (f.from !== undefined) q = q.where('at', '>=', f.from);
  if (f.to !== undefined) q = q.where('at', '<', f.to);
  return q.execute();
}
