/**
 * Lockouts an attacker cannot hold (L2, issue 10 items 2 and 3), shared by the portal's login and the console's.
 *
 * Failures are counted per (account, source) — a source is the address's limit unit (an IPv4 address, an IPv6 /64:
 * security/address-bucket.ts), or the browser's device cookie — and per account overall. An attempt first takes a slot from its counters in one transaction, before any password hash
 * runs, so that parallel requests never check more than the threshold of guesses. A source that reaches the threshold
 * is locked for LOCKOUT_MINUTES × 2^(n−1) (capped at a day; n starts again after a quiet day); the account-wide
 * counter (failures from anywhere) locks for LOCKOUT_MINUTES. An attempt from the account's own device cookie or from
 * a network it logged in from is counted on its own source only (a known /64 on that /64's counter, so its 2^64
 * addresses share one threshold) and is not held by the account-wide lock.
 */
import type { Db } from '../db/database.ts';
import type { Services } from '../services.ts';
import { addressBucket } from '../security/address-bucket.ts';
import { deviceSourceOf } from './device-cookie.ts';
import {
  clearSource,
  deleteStaleThrottles,
  isKnownNetwork,
  knownNetworksAmong,
  lockSource,
  rememberNetwork,
  takeSourceAttempt,
} from './login-throttle.repository.ts';

const DAY = 24 * 3600_000;
/** A network counts as the account's own for this long after its last successful login. */
const KNOWN_NETWORK_DAYS = 180;

/** The account-wide counter of one kind of account (users or operators), in its own table. */
export interface AccountCounter {
  /** Counts one attempt in advance unless the account is locked or has `threshold` in progress; null then. */
  take(db: Db, threshold: number, now: number): Promise<number | null>;
  /** Locks the account for everyone but its own devices and networks; its count starts again. */
  lock(db: Db, until: number, now: number): Promise<void>;
}

/** Where an attempt comes from: the account's device, a network it used before, or any other address. */
export interface AttemptSource {
  kind: 'device' | 'network' | 'ip';
  /** The counter key: 'dev:<digest>', or 'ip:<address bucket>' (an IPv4 address, an IPv6 /64). */
  key: string;
}

export type Attempt =
  | {
      ok: true;
      source: AttemptSource;
      sourceFailures: number;
      lockCount: number;
      lastLockEnd: number | null;
      accountFailures: number | null;
    }
  | { ok: false; source: AttemptSource; held: 'source' | 'account' };

/**
 * The network an address belongs to for "known networks": its limit unit (security/address-bucket.ts), an IPv4
 * address itself (a /24 is often shared by many customers of one provider), the /64 of an IPv6 address (one site
 * or household).
 */
export const networkOf = addressBucket;

/** Sweeps what the lockouts no longer need: sources quiet for two days, networks past KNOWN_NETWORK_DAYS. */
export function sweepLoginThrottle(db: Db, now: number): Promise<void> {
  return deleteStaleThrottles(db, now - 2 * DAY, now - KNOWN_NETWORK_DAYS * DAY);
}

/** Which counter an attempt on `subject` ('u:<id>', 'o:<id>') is checked against. */
export async function sourceOfAttempt(
  s: Services,
  subject: string,
  ip: string,
  deviceCookie: string | undefined,
): Promise<AttemptSource> {
  const device = deviceSourceOf(s.config.sessionSecret, deviceCookie, subject);
  if (device) return { kind: 'device', key: device };
  // One counter per /64 as well as per known network: addresses of one /64 share it, so rotating through them gives
  // no new guesses, and a failure from a known network counts on that network's own counter (red team item 2).
  const bucket = addressBucket(ip);
  const key = `ip:${bucket}`;
  const known = await isKnownNetwork(s.db, subject, bucket, s.now() - KNOWN_NETWORK_DAYS * DAY);
  return { kind: known ? 'network' : 'ip', key };
}

/**
 * The sources of several requests at once, as sourceOfAttempt decides them (the reset-mail worker's batch): the
 * account's device cookie, a network it logged in from, or any other address bucket. `subject` '' (no account)
 * is always 'ip'.
 */
export async function sourcesOfRequests(
  s: Services,
  db: Db,
  items: Array<{ subject: string; ip: string; deviceCookie: string | undefined }>,
): Promise<AttemptSource[]> {
  const withNetwork = items.map((it) => ({
    ...it,
    network: addressBucket(it.ip),
    device: it.subject ? deviceSourceOf(s.config.sessionSecret, it.deviceCookie, it.subject) : null,
  }));
  const known = await knownNetworksAmong(
    db,
    withNetwork.filter((it) => it.subject && !it.device),
    s.now() - KNOWN_NETWORK_DAYS * DAY,
  );
  return withNetwork.map((it): AttemptSource => {
    if (it.device) return { kind: 'device', key: it.device };
    return { kind: known.has(`${it.subject} ${it.network}`) ? 'network' : 'ip', key: `ip:${it.network}` };
  });
}

class NoSlot extends Error {}

/**
 * Takes the attempt slot before the password is checked: the account-wide counter unless the source is the account's
 * own, then the source's. Both in one transaction: when the source refuses, the account's count is undone. The
 * account's row comes first, as in a reset or an unlock (which change the account, then its sources), so that two
 * transactions never wait for each other's rows on PostgreSQL.
 */
export async function takeAttempt(
  s: Services,
  subject: string,
  source: AttemptSource,
  account: AccountCounter,
): Promise<Attempt> {
  const now = s.now();
  const threshold = s.config.lockoutThreshold;
  try {
    return await s.db.transaction().execute(async (trx) => {
      let accountFailures: number | null = null;
      if (source.kind === 'ip') {
        accountFailures = await account.take(trx, threshold, now);
        if (accountFailures === null) return { ok: false, source, held: 'account' } as const;
      }
      const slot = await takeSourceAttempt(trx, subject, source.key, threshold, now);
      if (!slot) throw new NoSlot();
      return {
        ok: true,
        source,
        sourceFailures: slot.failures,
        lockCount: slot.lock_count,
        lastLockEnd: slot.locked_until,
        accountFailures,
      } as const;
    });
  } catch (err) {
    if (err instanceof NoSlot) return { ok: false, source, held: 'source' };
    throw err;
  }
}

/** The locks a failed attempt caused, for the audit trail. */
export interface FailureLocks {
  source: { until: number; lockCount: number } | null;
  accountUntil: number | null;
}

/** After a wrong password: locks the source and/or the account when this failure reached the threshold. */
export async function recordFailedAttempt(
  s: Services,
  trx: Db,
  subject: string,
  attempt: Extract<Attempt, { ok: true }>,
  account: AccountCounter,
): Promise<FailureLocks> {
  const now = s.now();
  const threshold = s.config.lockoutThreshold;
  const locks: FailureLocks = { source: null, accountUntil: null };
  // The account's row before the source's (see takeAttempt).
  if (attempt.accountFailures !== null && attempt.accountFailures >= threshold) {
    locks.accountUntil = now + s.config.lockoutMinutes * 60_000;
    await account.lock(trx, locks.accountUntil, now);
  }
  if (attempt.sourceFailures >= threshold) {
    // A quiet day since the last lock ended: this source starts again from the shortest lock.
    const lockCount = attempt.lastLockEnd !== null && now - attempt.lastLockEnd > DAY ? 1 : attempt.lockCount + 1;
    const minutes = Math.min(s.config.lockoutMinutes * 2 ** (lockCount - 1), 24 * 60);
    const until = now + minutes * 60_000;
    await lockSource(trx, subject, attempt.source.key, until, lockCount, now);
    locks.source = { until, lockCount };
  }
  return locks;
}

/** After the right password (the caller has cleared the account's row first): the source's count ends and its network becomes one of the account's own. */
export async function recordSuccessfulAttempt(
  s: Services,
  trx: Db,
  subject: string,
  source: AttemptSource,
  ip: string,
): Promise<void> {
  const now = s.now();
  await clearSource(trx, subject, source.key, now);
  await rememberNetwork(trx, subject, networkOf(ip), now);
}

/** The audit detail of a source lock: which source, until when, and the how-manieth lock it is. */
export function sourceLockDetail(
  source: AttemptSource,
  ip: string,
  lock: { until: number; lockCount: number },
  failures: number,
): Record<string, unknown> {
  return {
    source: source.kind === 'device' ? 'device' : 'ip',
    ip,
    until: new Date(lock.until).toISOString(),
    lockCount: lock.lockCount,
    failures,
  };
}
