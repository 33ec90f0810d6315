/**
 * Logging in with username (coordinators: user ID) and password (L1, L2): one generic failure for every
 * wrong combination, lockouts per source and per account that an attacker cannot hold against the owner's own
 * browser or network (accounts/login-throttle.ts), throttling per address.
 */
import type { Services } from '../../services.ts';
import type { User } from '../../db/schema.ts';
import { deviceCookieWith } from '../../accounts/device-cookie.ts';
import { normalizeIdentifier } from '../../accounts/identity.ts';
import { lockStateOf } from '../../accounts/lock-state.ts';
import {
  recordFailedAttempt,
  recordSuccessfulAttempt,
  sourceLockDetail,
  sourceOfAttempt,
  takeAttempt,
  type AccountCounter,
  type Attempt,
} from '../../accounts/login-throttle.ts';
import { checkLoginPassword, hashPassword, holdFailureAnswer, needsRehash } from '../../accounts/passwords.ts';
import { deleteSession, insertSession } from '../../accounts/sessions.repository.ts';
import {
  findUserByLoginKey,
  lockUserUntil,
  recordLoginSuccess,
  replaceLegacyHash,
  takeLoginAttempt,
  updatePasswordHash,
} from '../../accounts/users.repository.ts';
import { addressBucket } from '../../security/address-bucket.ts';
import { hashToken, randomId } from '../../security/tokens.ts';
import { countFailure, endStreak } from './failure-streak.ts';
import type { RequestMeta } from '../recovery/recovery.flow.ts';

export type LoginResult =
  | { ok: true; sessionId: string; user: User; deviceCookie: string }
  | { ok: false; reason: 'throttled' }
  /** `streak`: consecutive failures of this typed name from this address, the same for known and unknown names (L1). */
  | { ok: false; reason: 'invalid'; streak: number };

/** What the login needs of the request besides the form: its address, and the browser's device cookie. */
export interface LoginMeta extends RequestMeta {
  deviceCookie?: string | undefined;
}

const WINDOW = 15 * 60_000;

/** The account-wide counter of portal users (users.failed_logins, the temporary lock on the account). */
function userCounter(user: User): AccountCounter {
  return {
    take: (db, threshold, now) => takeLoginAttempt(db, user.id, threshold, now),
    lock: (db, until, now) => lockUserUntil(db, user.id, until, now),
  };
}

export async function logIn(
  s: Services,
  identifier: string,
  password: string,
  previousSessionHash: string | null,
  meta: LoginMeta,
): Promise<LoginResult> {
  const started = performance.now();
  const key = normalizeIdentifier(identifier);
  const ipKey = `loginfail:ip:${addressBucket(meta.ip)}`;
  const base = { identifier: key, ip: meta.ip, userAgent: meta.userAgent };
  if ((await s.counters.peek(ipKey)) >= s.config.loginFailuresPerIpPer15Min) {
    await s.audit({ event: 'login', outcome: 'throttled', ...base });
    return { ok: false, reason: 'throttled' };
  }
  const user = await findUserByLoginKey(s.db, key);
  const subject = user ? `u:${user.id}` : '';
  const counter = user ? userCounter(user) : undefined;
  // An operator's lock has no slot to take; otherwise the slot is taken before any hash runs (issue 10 item 3).
  let attempt: Attempt | undefined;
  if (user && lockStateOf(user, s.now()) !== 'indefinite') {
    attempt = await takeAttempt(s, subject, await sourceOfAttempt(s, subject, meta.ip, meta.deviceCookie), counter!);
  }
  // Whatever the account, the same work on failure (L1, R2): one argon2id verification, real or the dummy.
  const matches = await checkLoginPassword(
    attempt?.ok ? { passwordHash: user!.password_hash, legacyHash: user!.legacy_hash } : null,
    password,
  );

  if (!matches || !user || !attempt?.ok) {
    await s.counters.hit(ipKey, WINDOW);
    const outcome = !user ? 'unknown_user' : attempt?.ok ? 'bad_password' : 'locked';
    // For the call center: which lock held a locked attempt (its source's, the account's, or an operator's).
    const held =
      !user || attempt?.ok
        ? undefined
        : !attempt
          ? 'operator'
          : attempt.held === 'source'
            ? attempt.source.kind
            : 'account';
    await s.db.transaction().execute(async (trx) => {
      if (!user || !attempt?.ok) {
        await s.audit(
          { event: 'login', outcome, userId: user?.id ?? null, ...base, ...(held ? { detail: { held } } : {}) },
          trx,
        );
        return;
      }
      const locks = await recordFailedAttempt(s, trx, subject, attempt, counter!);
      await s.audit(
        {
          event: 'login',
          outcome,
          userId: user.id,
          ...base,
          detail: {
            failures: attempt.sourceFailures,
            accountFailures: attempt.accountFailures,
            source: attempt.source.kind,
          },
        },
        trx,
      );
      if (locks.source) {
        await s.audit(
          {
            event: 'account.locked',
            outcome: 'source',
            userId: user.id,
            ...base,
            detail: sourceLockDetail(attempt.source, meta.ip, locks.source, attempt.sourceFailures),
          },
          trx,
        );
      }
      if (locks.accountUntil !== null) {
        await s.audit(
          {
            event: 'account.locked',
            outcome: 'temporary',
            userId: user.id,
            ...base,
            detail: { until: new Date(locks.accountUntil).toISOString(), failures: attempt.accountFailures },
          },
          trx,
        );
      }
    });
    // Counted for every failure alike, before the answer floor that hides the time it takes.
    const streak = await countFailure(s, identifier, meta.ip);
    await holdFailureAnswer(started, s.config.loginFailureFloorMs, attempt?.ok === true && user?.legacy_hash != null);
    return { ok: false, reason: 'invalid', streak };
  }

  // The old portal's bcrypt hash is verified once, then replaced by argon2id (hashed before the transaction).
  const legacy = user.legacy_hash !== null;
  const newHash = legacy || needsRehash(user.password_hash) ? await hashPassword(password) : undefined;
  const sessionId = randomId(32);
  const now = s.now();
  await s.db.transaction().execute(async (trx) => {
    // The slot counted this attempt on the account too (from an unknown address), or a lock or failures remain.
    if (
      attempt.accountFailures !== null ||
      user.failed_logins !== 0 ||
      user.locked_until !== null ||
      user.status === 'locked'
    )
      await recordLoginSuccess(trx, user, now);
    await recordSuccessfulAttempt(s, trx, subject, attempt.source, meta.ip);
    if (legacy) {
      await replaceLegacyHash(trx, user.id, newHash!, now);
      await s.audit(
        { event: 'password.migrated', outcome: 'ok', userId: user.id, ip: meta.ip, userAgent: meta.userAgent },
        trx,
      );
    } else if (newHash) await updatePasswordHash(trx, user.id, newHash, now);
    // L3: a new session id at every login; the old one (if any) ends.
    if (previousSessionHash) await deleteSession(trx, previousSessionHash);
    await insertSession(trx, {
      id_hash: hashToken(sessionId),
      user_id: user.id,
      created_at: now,
      last_seen_at: now,
      expires_at: now + s.config.sessionAbsoluteHours * 3600_000,
      ip: meta.ip,
      user_agent: meta.userAgent,
    });
    await s.audit(
      { event: 'login', outcome: 'ok', userId: user.id, ...base, detail: { source: attempt.source.kind } },
      trx,
    );
  });
  await endStreak(s, identifier, meta.ip);
  return {
    ok: true,
    sessionId,
    user,
    deviceCookie: deviceCookieWith(s.config.sessionSecret, meta.deviceCookie, subject),
  };
}

export async function logOut(s: Services, sessionHash: string, userId: string, meta: RequestMeta): Promise<void> {
  await deleteSession(s.db, sessionHash);
  await s.audit({ event: 'logout', outcome: 'ok', userId, ip: meta.ip, userAgent: meta.userAgent });
}
