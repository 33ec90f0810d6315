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
  if (!user || lockStateOf(user, now) !== 'none') {
    // Same work as a real check, so that timing does not tell (L1).
    await burnVerification(password);
    await s.counters.hit(ipKey, WINDOW);
    await s.audit({ event: 'login', outcome: user ? 'locked' : 'unknown_user', userId: user?.id ?? null, ...base });
    return { ok: false, reason: 'invalid' };
  }
  const legacy = user.legacy_hash !== null;
  const matches = legacy ? await verifyLegacyPassword(user.legacy_hash!, password) : await verifyPassword(user.password_hash, password);
  if (!matches) {
    await s.counters.hit(ipKey, WINDOW);
    const failures = await recordLoginFailure(s.db, user.id, now);
    await s.audit({ event: 'login', outcome: 'bad_password', userId: user.id, ...base, detail: { failures } });
    if (failures >= s.config.lockoutThreshold) {
      const until = now + s.config.lockoutMinutes * 60_000;
      await lockUserUntil(s.db, user.id, until, now);
      await s.audit({ event: 'account.locked', outcome: 'temporary', userId: user.id, ...base, detail: { until: new Date(until).toISOString(), failures } });
    }
    return { ok: false, reason: 'invalid' };
  }
  await recordLoginSuccess(s.db, user, now);
  if (legacy) {
    // The old portal's bcrypt hash is verified once, then replaced by argon2id.
    await replaceLegacyHash(s.db, user.id, await hashPassword(password), now);
    await s.audit({ event: 'password.migrated', outcome: 'ok', userId: user.id, ip: meta.ip, userAgent: meta.userAgent });
  } else if (needsRehash(user.password_hash)) await updatePasswordHash(s.db, user.id, await hashPassword(password), now);
  // L3: a new session id at every login; the old one (if any) ends.
  if (previousSessionHash) await deleteSession(s.db, previousSessionHash);
  const sessionId = randomId(32);
  await insertSession(s.db, {
    id_hash: hashToken(sessionId),
    user_id: user.id,
    created_at: now,
    last_seen_at: now,
    expires_at: now + s.config.sessionAbsoluteHours * 3600_000,
    ip: meta.ip,
    user_agent: meta.userAgent,
  });
  await s.audit({ event: 'login', outcome: 'ok', userId: user.id, ...base });
  return { ok: true, sessionId, user };
}

export async function logOut(s: Services, sessionHash: string, userId: string, meta: RequestMeta): Promise<void> {
  await deleteSession(s.db, sessionHash);
  await s.audit({ event: 'logout', outcome: 'ok', userId, ip: meta.ip, userAgent: meta.userAgent });
}
