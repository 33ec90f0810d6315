/**
 * アカウント情報: change of e-mail (current password required, the new address verified by link, the old one
 * notified) and of password (current password required, policy applied, other sessions ended, this one renewed,
 * notice mail). A provisional account must replace its placeholder address before anything else.
 */
import type { Services } from '../../services.ts';
import type { Flow, User } from '../../db/schema.ts';
import { checkPassword, type PolicyViolation } from '../../accounts/password-policy.ts';
import { hashPassword } from '../../accounts/passwords.ts';
import { isEmailAddress, isProvisionalPlaceholder, normalizeEmail } from '../../accounts/identity.ts';
import { changePassword, findUserById, setUserEmail } from '../../accounts/users.repository.ts';
import { deleteOtherSessions, rotateSession } from '../../accounts/sessions.repository.ts';
import {
  cancelOpenVerifications,
  consumeVerification,
  countVerificationsSince,
  insertVerification,
} from '../../accounts/email-verifications.repository.ts';
import { hashToken, randomAlnum, randomId } from '../../security/tokens.ts';
import { enqueueMail } from '../../mail/outbox.repository.ts';
import { emailChangedMail, emailChangeVerifyMail } from '../../mail/templates/account-mails.ts';
import { passwordChangedMail } from '../../mail/templates/password-changed.ts';
import type { Lang } from '../../web/i18n/i18n.ts';
import type { RequestMeta } from '../recovery/recovery.flow.ts';
import { cancelOpenTokens, updateFlow } from '../recovery/recovery.repository.ts';
import { VERIFY_TTL_MS, verificationOfFlow } from '../registration/registration.flow.ts';
import { checkCurrentPassword, type ReauthResult } from './reauth.ts';

export function isProvisional(user: User): boolean {
  return user.status === 'provisional' || isProvisionalPlaceholder(user.email);
}

export type EmailChangeResult =
  | { ok: true; email: string }
  | { ok: false; problem?: 'required' | 'invalid' | 'same' | 'too_many'; current?: Exclude<ReauthResult, 'ok'> };

function emailProblem(user: User, email: string): 'required' | 'invalid' | 'same' | undefined {
  if (!email) return 'required';
  if (!isEmailAddress(email) || isProvisionalPlaceholder(email)) return 'invalid';
  if (normalizeEmail(email) === normalizeEmail(user.email)) return 'same';
  return undefined;
}

/** Sends the link to the new address, once the current password was typed right (V3); a wrong one changes nothing. */
export async function requestEmailChange(
  s: Services,
  user: User,
  typed: string,
  current: string,
  lang: Lang,
  meta: RequestMeta,
): Promise<EmailChangeResult> {
  const email = typed.normalize('NFKC').trim();
  const problem = emailProblem(user, email);
  const reauth = await checkCurrentPassword(s, user, current, 'email.change_requested', meta);
  if (problem || reauth !== 'ok')
    return { ok: false, ...(problem ? { problem } : {}), ...(reauth !== 'ok' ? { current: reauth } : {}) };
  const now = s.now();
  if ((await countVerificationsSince(s.db, normalizeEmail(email), now - 3600_000)) >= 3)
    return { ok: false, problem: 'too_many' };
  const token = randomAlnum(32);
  const mail = emailChangeVerifyMail(lang, `${s.config.baseUrl}/account/email/verify?token=${token}`, s.branding);
  await s.db.transaction().execute(async (trx) => {
    await cancelOpenVerifications(trx, 'email_change', { userId: user.id }, now);
    await insertVerification(trx, {
      id: randomId(),
      purpose: 'email_change',
      token_hash: hashToken(token),
      email: normalizeEmail(email),
      user_id: user.id,
      payload_enc: s.box.seal(JSON.stringify({ email, lang })),
      created_at: now,
      expires_at: now + VERIFY_TTL_MS,
      used_at: null,
      cancelled_at: null,
    });
    const mailId = await enqueueMail(trx, s.box, now, {
      kind: 'email_change_verify',
      userId: user.id,
      to: email,
      subject: mail.subject,
      text: mail.text,
    });
    await s.audit(
      {
        event: 'email.change_requested',
        outcome: 'mail_queued',
        userId: user.id,
        ip: meta.ip,
        userAgent: meta.userAgent,
        detail: { mailId },
      },
      trx,
    );
  });
  s.mailWorker.kick();
  return { ok: true, email };
}

export type ConfirmEmailResult =
  | { ok: true; sessionId: string | null }
  | { ok: false; state: 'expired' | 'used' | 'cancelled' | 'invalid' };

/**
 * Applies a verified new address; the old address (unless a placeholder) is told; reset links to it end. When the
 * confirming browser is logged in to this account, its session gets a new id (V4): a provisional account's
 * restricted session becomes a full one here, a change of privilege like a login (L3).
 */
export async function confirmEmailChange(
  s: Services,
  flow: Flow,
  meta: RequestMeta,
  session?: { userId: string; idHash: string },
): Promise<ConfirmEmailResult> {
  const { state, payload } = await verificationOfFlow(s, flow);
  if (state !== 'valid' || !payload || !flow.user_id)
    return { ok: false, state: state === 'valid' ? 'invalid' : state };
  const user = await findUserById(s.db, flow.user_id);
  if (!user) return { ok: false, state: 'invalid' };
  const now = s.now();
  const newSessionId = session && session.userId === user.id ? randomId(32) : null;
  const done = await s.db.transaction().execute(async (trx) => {
    if (!(await consumeVerification(trx, flow.token_id!, now))) return false;
    const rotated = newSessionId ? await rotateSession(trx, session!.idHash, hashToken(newSessionId), now) : false;
    await setUserEmail(trx, user, payload.email, now);
    await cancelOpenTokens(trx, user.id, now, null);
    let noticeId: string | null = null;
    if (!isProvisionalPlaceholder(user.email)) {
      const mail = emailChangedMail(payload.lang, user.user_id ?? user.username, payload.email, s.branding);
      noticeId = await enqueueMail(trx, s.box, now, {
        kind: 'email_changed',
        userId: user.id,
        to: user.email,
        subject: mail.subject,
        text: mail.text,
      });
    }
    await updateFlow(trx, flow.id, { state: 'done', updated_at: now });
    await s.audit(
      {
        event: 'email.changed',
        outcome: 'ok',
        userId: user.id,
        ip: meta.ip,
        userAgent: meta.userAgent,
        detail: { wasProvisional: isProvisional(user), noticeId, sessionRenewed: rotated },
      },
      trx,
    );
    return { rotated };
  });
  if (!done) return { ok: false, state: 'used' };
  s.mailWorker.kick();
  return { ok: true, sessionId: done.rotated ? newSessionId : null };
}

export type PasswordChangeResult =
  | { ok: true; sessionId: string }
  | {
      ok: false;
      current?: Exclude<ReauthResult, 'ok'>;
      password?: PolicyViolation[] | 'required';
      confirm?: 'required' | 'mismatch';
    };

/** Sets the new password; other sessions end, this one gets a new id (V4: the returned one, for the cookie). */
export async function changeOwnPassword(
  s: Services,
  user: User,
  sessionHash: string,
  current: string,
  password: string,
  confirm: string,
  lang: Lang,
  meta: RequestMeta,
): Promise<PasswordChangeResult> {
  const errors: Exclude<PasswordChangeResult, { ok: true }> = { ok: false };
  const reauth = await checkCurrentPassword(s, user, current, 'password.changed', meta);
  if (reauth !== 'ok') errors.current = reauth;
  if (!password) errors.password = 'required';
  else {
    const v = await checkPassword(s.policy, password, [user.username, user.user_id]);
    if (v.length) errors.password = v;
  }
  if (!confirm) errors.confirm = 'required';
  else if (password && confirm !== password) errors.confirm = 'mismatch';
  if (errors.current || errors.password || errors.confirm) return errors;
  const hash = await hashPassword(password);
  const now = s.now();
  const sessionId = randomId(32);
  await s.db.transaction().execute(async (trx) => {
    await changePassword(trx, user.id, hash, now);
    const ended = await deleteOtherSessions(trx, user.id, sessionHash);
    await rotateSession(trx, sessionHash, hashToken(sessionId), now);
    await cancelOpenTokens(trx, user.id, now, null);
    let mailId: string | null = null;
    if (!isProvisionalPlaceholder(user.email)) {
      const mail = passwordChangedMail(lang, user.user_id ?? user.username, now, s.branding, 'self');
      mailId = await enqueueMail(trx, s.box, now, {
        kind: 'password_changed',
        userId: user.id,
        to: user.email,
        subject: mail.subject,
        text: mail.text,
      });
    }
    await s.audit(
      {
        event: 'password.changed',
        outcome: 'ok',
        userId: user.id,
        ip: meta.ip,
        userAgent: meta.userAgent,
        detail: { otherSessionsEnded: ended, mailId },
      },
      trx,
    );
  });
  s.mailWorker.kick();
  return { ok: true, sessionId };
}
