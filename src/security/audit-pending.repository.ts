/**
 * Which unchained audit entries may still be chained (A2, H10). Chaining an entry vouches for it with the audit key,
 * so only entries that are genuinely new are chained: written within the grace window, after the chained part.
 * An older unchained entry is one whose chain columns were cleared (rewritten, to have it chained anew), or one the
 * server wrote and never chained (it stopped hard before the next round): nobody can tell which, so it is reported
 * as possible tampering and never chained — by the chainer, by the CLI or by `audit verify`.
 */
import { sql, type ExpressionBuilder } from 'kysely';
import type { Db, Dialect } from '../db/database.ts';
import type { Database } from '../db/schema.ts';

/** How long an entry may wait to be chained (by its `at`); the server's chainer runs every 250 ms. */
export const AUDIT_CHAIN_GRACE_MS = 10 * 60_000;

export interface ChainWindow {
  /** The time the window is measured from (default: now). */
  now?: number;
  /** Default AUDIT_CHAIN_GRACE_MS; a CLI command adds the time it ran, so that it chains what it wrote itself. */
  graceMs?: number;
}

/** Entries written before this time are not chained any more. */
export function freshSince(w: ChainWindow = {}): number {
  return (w.now ?? Date.now()) - (w.graceMs ?? AUDIT_CHAIN_GRACE_MS);
}

/**
 * On SQLite a lower seq can never be committed after a higher one (one writer at a time), so an unchained entry
 * below the highest chained seq was unchained afterwards. On PostgreSQL a transaction that inserted earlier may
 * commit after a later one was chained: there only the time tells.
 */
export const seqOrderIsCommitOrder = (dialect: Dialect) => dialect === 'sqlite';

/** The highest seq among chained entries (0: none). */
export async function highestChainedSeq(db: Db): Promise<number> {
  const r = await db
    .selectFrom('audit_log')
    .select('seq')
    .where('chain', 'is not', null)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r ? Number(r.seq) : 0;
}

/** The condition for an unchained entry that may be chained now. */
export function chainable(dialect: Dialect, since: number, headSeq: number) {
  return (eb: ExpressionBuilder<Database, 'audit_log'>) =>
    eb.and([
      eb('chain', 'is', null),
      eb('at', '>=', since),
      ...(seqOrderIsCommitOrder(dialect) ? [eb('seq', '>', headSeq)] : []),
    ]);
}

export interface RefusedEntry {
  seq: number;
  at: number;
  /** old: written before the grace window; below-head: a later entry was already chained (SQLite). */
  reason: 'old' | 'below-head';
}

export interface UnchainedReport {
  /** Entries that wait for the chainer (within the window). */
  waiting: number;
  /** The time of the newest waiting entry. */
  newestWaitingAt: number | null;
  /** Unchained entries that are never chained: possible tampering. */
  refused: number;
  /** The first of them by seq. */
  firstRefused: RefusedEntry | null;
}

/** Counts the unchained entries (read only): those that wait, and those that are refused, naming the first. */
export async function unchainedAudit(db: Db, dialect: Dialect, w: ChainWindow = {}): Promise<UnchainedReport> {
  const none: UnchainedReport = { waiting: 0, newestWaitingAt: null, refused: 0, firstRefused: null };
  if (!(await db.selectFrom('audit_log').select('seq').where('chain', 'is', null).limit(1).executeTakeFirst()))
    return none;
  const since = freshSince(w);
  const headSeq = await highestChainedSeq(db);
  const ok = chainable(dialect, since, headSeq);
  const waiting = await db
    .selectFrom('audit_log')
    .select([sql<number>`count(*)`.as('n'), sql<number | null>`max(at)`.as('newest')])
    .where(ok)
    .executeTakeFirstOrThrow();
  const refused = db
    .selectFrom('audit_log')
    .where('chain', 'is', null)
    .where((eb) => eb.not(ok(eb)));
  const count = await refused.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  const first = await refused.select(['seq', 'at']).orderBy('seq').limit(1).executeTakeFirst();
  return {
    waiting: Number(waiting.n),
    newestWaitingAt: waiting.newest === null ? null : Number(waiting.newest),
    refused: Number(count.n),
    firstRefused: first
      ? { seq: Number(first.seq), at: Number(first.at), reason: Number(first.at) < since ? 'old' : 'below-head' }
      : null,
  };
}

/** The refusal in words, for the server's log and the CLI. */
export function describeRefused(r: UnchainedReport, graceMs = AUDIT_CHAIN_GRACE_MS): string {
  const f = r.firstRefused!;
  const why =
    f.reason === 'old'
      ? `written at ${new Date(f.at).toISOString()}, older than the ${Math.round(graceMs / 60_000)}-minute window for chaining`
      : 'below the chained head (a later entry is already chained)';
  const n = r.refused === 1 ? '1 audit entry is' : `${r.refused} audit entries are`;
  return `${n} not chained although ${why.startsWith('below') ? 'below the head' : 'older than the window'}: possible tampering (chain columns cleared to have rewritten entries chained anew), or the portal stopped before chaining them; the first is entry ${f.seq} (${why}); such entries are never chained`;
}
