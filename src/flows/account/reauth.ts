/**
 * Re-authentication before a change of e-mail or password (M7, V3): the current password, typed again on the form.
 * Wrong answers are counted per account (not per login: the login throttling is its own design), so that a
 * stolen session cannot try passwords without end; over the limit the form refuses for the lockout window.
 */
import type { Services } from '../../services.ts';
import type { User } from '../../db/schema.ts';
import { verifyLegacyPassword, verifyPassword } from '../../accounts/passwords.ts';
import type { RequestMeta } from '../recovery/recovery.flow.ts';

export type ReauthResult = 'ok' | 'required' | 'wrong' | 'throttled';

/** Checks the current password typed on a form of /account; a wrong one or a refusal is audited under `event`. */
export async function checkCurrentPassword(
  s: Services,
  user: User,
  typed: string,
  event: string,
  meta: RequestMeta,
): Promise<ReauthResult> {
  if (!typed) return 'required';
  const key = `reauth:user:${user.id}`;
  const audit = (outcome: string) =>
    s.audit({ event, outcome, userId: user.id, ip: meta.ip, userAgent: meta.userAgent });
  if ((await s.counters.peek(key)) >= s.config.lockoutThreshold) {
    await audit('throttled');
    return 'throttled';
  }
  const right = user.legacy_hash
    ? await verifyLegacyPassword(user.legacy_hash, typed)
    : await verifyPassword(user.password_hash, typed);
  if (!right) {
    await s.counters.hit(key, s.config.lockoutMinutes * 60_000);
    await audit('wrong_current');
    return 'wrong';
  }
  await s.counters.reset(key);
  return 'ok';
}
