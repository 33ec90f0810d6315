/**
 * Logging in with username (coordinators: user ID) and password (L1, L2): one generic failure for every
 * wrong combination, a temporary lockout after N failures, throttling per address.
 */
import type { Services } from '../../services.ts';
import type { User } from '../../db/schema.ts';
import { normalizeIdentifier } from '../../accounts/identity.ts';
import { lockStateOf } from '../../accounts/lock-state.ts';
import { burnVerification, hashPassword, needsRehash, verifyLegacyPassword, verifyPassword } from '../../accounts/passwords.ts';
import { deleteSession, insertSession } from '../../accounts/sessions.repository.ts';
import { findUserByLoginKey, lockUserUntil, recordLoginFailure, recordLoginSuccess, replaceLegacyHash, updatePasswordHash } from '../../accounts/users.repository.ts';
import { hashToken, randomId } from '../../security/tokens.ts';
import type { RequestMeta } from '../recovery/recovery.flow.ts';

export type LoginResult = { ok: true; sessionId: string; user: User } | { ok: false; reason: 'invalid' | 'throttled' };

const WINDOW = 15 * 60_000;

export async function logIn(s: Services, identifier: string, password: string, previousSessionHash: string | null, meta: RequestMeta): Promise<LoginResult> {
  const key = normalizeIdentifier(identifier);
  const ipKey = `loginfail:ip:${meta.ip}`;
  const base = { identifier: key, ip: meta.ip, userAgent: meta.userAgent };
  if ((await s.counters.peek(ipKey)) >= s.config.loginFailuresPerIpPer15Min) {
    await s.audit({ event: 'login', outcome: 'throttled', ...base });
    return { ok: false, reason: 'throttled' };
  }
  const user = await findUserByLoginKey(s.db, key);
  const now = s.now();
  const checkable = user !== undefined && lockStateOf(user, now) === 'none';
  const legacy = checkable && user.legacy_hash !== null;
  // Whatever the account, the same work (L1, R2): one password verification (against a dummy argon2id hash for an
  // unknown or locked account) and then one transaction.
  let matches = false;
  if (!checkable) await burnVerification(password);
  else matches = legacy ? await verifyLegacyPassword(user.legacy_hash!, password) : await verifyPassword(user.password_hash, password);

  if (!matches) {
    await s.counters.hit(ipKey, WINDOW);
    const outcome = !user ? 'unknown_user' : checkable ? 'bad_password' : 'locked';
    await s.db.transaction().execute(async (trx) => {
      // For an unknown or locked account the same statement runs and finds no row to count.
      const failures = await recordLoginFailure(trx, checkable ? user.id : '', now);
      await s.audit({ event: 'login', outcome, userId: user?.id ?? null, ...base, ...(checkable ? { detail: { failures } } : {}) }, trx);
      if (checkable && failures >= s.config.lockoutThreshold) {
        const until = now + s.config.lockoutMinutes * 60_000;
        await lockUserUntil(trx, user.id, until, now);
        await s.audit({ event: 'account.locked', outcome: 'temporary', userId: user.id, ...base, detail: { until: new Date(until).toISOString(), failures } }, trx);
      }
    });
    return { ok: false, reason: 'invalid' };
  }

  // The old portal's bcrypt hash is verified once, then replaced by argon2id (hashed before the transaction).
  const newHash = legacy || needsRehash(user!.password_hash) ? await hashPassword(password) : undefined;
  const sessionId = randomId(32);
  await s.db.transaction().execute(async (trx) => {
    // Most logins find nothing to clear (no failures, no lock): no write then.
    if (user!.failed_logins !== 0 || user!.locked_until !== null || user!.status === 'locked') await recordLoginSuccess(trx, user!, now);
    if (legacy) {
      await replaceLegacyHash(trx, user!.id, newHash!, now);
      await s.audit({ event: 'password.migrated', outcome: 'ok', userId: user!.id, ip: meta.ip, userAgent: meta.userAgent }, trx);
    } else if (newHash) await updatePasswordHash(trx, user!.id, newHash, now);
    // L3: a new session id at every login; the old one (if any) ends.
    if (previousSessionHash) await deleteSession(trx, previousSessionHash);
    await insertSession(trx, {
      id_hash: hashToken(sessionId),
      user_id: user!.id,
      created_at: now,
      last_seen_at: now,
      expires_at: now + s.config.sessionAbsoluteHours * 3600_000,
      ip: meta.ip,
      user_agent: meta.userAgent,
    });
    await s.audit({ event: 'login', outcome: 'ok', userId: user!.id, ...base }, trx);
  });
  return { ok: true, sessionId, user: user! };
}

export async function logOut(s: Services, sessionHash: string, userId: string, meta: RequestMeta): Promise<void> {
  await deleteSession(s.db, sessionHash);
  await s.audit({ event: 'logout', outcome: 'ok', userId, ip: meta.ip, userAgent: meta.userAgent });
}
