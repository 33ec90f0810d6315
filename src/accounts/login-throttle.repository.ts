/** SQL for login failures per (account, source) and the networks an account logged in from (L2). */
import type { Db } from '../db/database.ts';
import type { LoginThrottle } from '../db/schema.ts';

/** What a source's row said when an attempt was taken (failures already counting this one). */
export type SourceSlot = Pick<LoginThrottle, 'failures' | 'lock_count' | 'locked_until'>;

/**
 * Takes one attempt of a source atomically: one conditional UPDATE that counts the failure in advance, only while
 * the source has fewer than `threshold` failures in progress and is not locked (a first row is inserted before).
 * N parallel requests get at most `threshold` attempts on SQLite and PostgreSQL alike (issue 10 item 3); null
 * when none is left.
 */
export async function takeSourceAttempt(
  db: Db,
  subject: string,
  source: string,
  threshold: number,
  now: number,
): Promise<SourceSlot | null> {
  await db
    .insertInto('login_throttle')
    .values({ subject, source, failures: 0, locked_until: null, lock_count: 0, updated_at: now })
    .onConflict((oc) => oc.columns(['subject', 'source']).doNothing())
    .execute();
  const row = await db
    .updateTable('login_throttle')
    .set((eb) => ({ failures: eb('failures', '+', 1), updated_at: now }))
    .where('subject', '=', subject)
    .where('source', '=', source)
    .where('failures', '<', threshold)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .returning(['failures', 'lock_count', 'locked_until'])
    .executeTakeFirst();
  return row ?? null;
}

/** Locks one source of an account until `until`; its failures start again (after the lock, one typo is one failure). */
export async function lockSource(
  db: Db,
  subject: string,
  source: string,
  until: number,
  lockCount: number,
  now: number,
): Promise<void> {
  await db
    .updateTable('login_throttle')
    .set({ failures: 0, locked_until: until, lock_count: lockCount, updated_at: now })
    .where('subject', '=', subject)
    .where('source', '=', source)
    .execute();
}

/** A right password from this source: its failures and lock history end. */
export async function clearSource(db: Db, subject: string, source: string, now: number): Promise<void> {
  await db
    .updateTable('login_throttle')
    .set({ failures: 0, locked_until: null, lock_count: 0, updated_at: now })
    .where('subject', '=', subject)
    .where('source', '=', source)
    .execute();
}

/**
 * Lifts every source's lock of an account (an operator's unlock, a password reset). The lock counts stay, so that
 * a source that locks the account again is held longer.
 */
export async function releaseSources(db: Db, subject: string, now: number): Promise<void> {
  await db
    .updateTable('login_throttle')
    .set({ failures: 0, locked_until: null, updated_at: now })
    .where('subject', '=', subject)
    .execute();
}

/** Remembers (or refreshes) a network the account logged in from. */
export async function rememberNetwork(db: Db, subject: string, network: string, now: number): Promise<void> {
  await db
    .insertInto('login_networks')
    .values({ subject, network, last_success_at: now })
    .onConflict((oc) => oc.columns(['subject', 'network']).doUpdateSet({ last_success_at: now }))
    .execute();
}

/** True when the account logged in successfully from `network` since `since`. */
export async function isKnownNetwork(db: Db, subject: string, network: string, since: number): Promise<boolean> {
  const r = await db
    .selectFrom('login_networks')
    .select('subject')
    .where('subject', '=', subject)
    .where('network', '=', network)
    .where('last_success_at', '>=', since)
    .executeTakeFirst();
  return r !== undefined;
}

/**
 * Forgets sources quiet since `before` (their failures and lock history; every lock has ended by then, locks last at
 * most a day) and networks not used since `networksBefore`, so that guesses from many addresses do not grow the
 * tables without end.
 */
export async function deleteStaleThrottles(db: Db, before: number, networksBefore: number): Promise<void> {
  await db.deleteFrom('login_throttle').where('updated_at', '<', before).execute();
  await db.deleteFrom('login_networks').where('last_success_at', '<', networksBefore).execute();
}

/** The sources of an account locked now (for the call center), the longest lock first. */
export async function listSourceLocks(
  db: Db,
  subject: string,
  now: number,
): Promise<Array<Pick<LoginThrottle, 'source' | 'locked_until'>>> {
  return db
    .selectFrom('login_throttle')
    .select(['source', 'locked_until'])
    .where('subject', '=', subject)
    .where('locked_until', '>', now)
    .orderBy('locked_until', 'desc')
    .limit(20)
    .execute();
}

/** The sources of an account with failures counting or a lock in force (for the call center), locked ones first. */
export async function listSourceCounters(
  db: Db,
  subject: string,
  now: number,
): Promise<Array<Pick<LoginThrottle, 'source' | 'failures' | 'locked_until'>>> {
  const rows = await db
    .selectFrom('login_throttle')
    .select(['source', 'failures', 'locked_until'])
    .where('subject', '=', subject)
    .where((eb) => eb.or([eb('failures', '>', 0), eb('locked_until', '>', now)]))
    .orderBy('updated_at', 'desc')
    .limit(20)
    .execute();
  const locked = (r: { locked_until: number | null }) => (r.locked_until !== null && r.locked_until > now ? 1 : 0);
  return rows.sort((a, b) => locked(b) - locked(a));
}

/** Of these (subject, network) pairs, those the account logged in from since `since` (key: `<subject> <network>`). */
export async function knownNetworksAmong(
  db: Db,
  pairs: Array<{ subject: string; network: string }>,
  since: number,
): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const rows = await db
    .selectFrom('login_networks')
    .select(['subject', 'network'])
    .where('subject', 'in', [...new Set(pairs.map((p) => p.subject))])
    .where('network', 'in', [...new Set(pairs.map((p) => p.network))])
    .where('last_success_at', '>=', since)
    .execute();
  return new Set(rows.map((r) => `${r.subject} ${r.network}`));
}
