/**
 * Registration of an institution code held by a provisional account (issue 10 item 5). The code is public, so
 * following the mailed link proves only the registrant's own address: the registration becomes a pending case, and
 * the provisional account stays until the call center has called the institution's registered phone back.
 * Approval closes the provisional account (superseded) and opens the registrant's; rejection keeps it.
 */
import type { Services } from '../../services.ts';
import type { Db } from '../../db/database.ts';
import type { RegistrationCase, User } from '../../db/schema.ts';
import { isProvisionalPlaceholder } from '../../accounts/identity.ts';
import { assignUnique, draftUsername } from '../../accounts/identifiers.ts';
import {
  closeUser,
  findInstitutionAccount,
  findUserById,
  insertUser,
  lockUser,
} from '../../accounts/users.repository.ts';
import { enqueueMail } from '../../mail/outbox.repository.ts';
import { registrationCompleteMail } from '../../mail/templates/account-mails.ts';
import { registrationPendingMail, registrationRejectedMail } from '../../mail/templates/registration-case-mails.ts';
import { randomId } from '../../security/tokens.ts';
import type { Lang } from '../../web/i18n/i18n.ts';
import type { RequestMeta } from '../recovery/recovery.flow.ts';
import { cancelOpenTokens } from '../recovery/recovery.repository.ts';
import { decideCase, findCaseById, insertCase } from './registration-cases.repository.ts';

/** The call-back checklist: every item must be ticked before an approval (the console shows them in this order). */
export const CALLBACK_CHECKS = ['calledRegisteredPhone', 'institutionConfirmed', 'contactConfirmed'] as const;
export type CallbackCheck = (typeof CALLBACK_CHECKS)[number];

/** An open account that is provisional (by status, or by its placeholder address while locked). */
export function isProvisionalHolder(u: User): boolean {
  return u.status !== 'closed' && (u.status === 'provisional' || isProvisionalPlaceholder(u.email));
}

const langOf = (l: string): Lang => (l === 'en' ? 'en' : 'ja');

export interface CaseRegistrant {
  code: string;
  name: string;
  contact: string;
  email: string;
  phone: string;
  lang: Lang;
}

/** In the completion's transaction: the case, the registrant's mail (what happens next) and the audit row. */
export async function openCase(
  s: Services,
  trx: Db,
  holder: User,
  r: CaseRegistrant,
  verificationId: string,
  passwordHash: string,
  meta: RequestMeta,
): Promise<RegistrationCase> {
  const now = s.now();
  const c: RegistrationCase = {
    id: randomId(),
    verification_id: verificationId,
    institution_code: r.code,
    holder_id: holder.id,
    status: 'pending',
    institution_name: r.name,
    contact_name: r.contact,
    email: r.email,
    phone: r.phone,
    lang: r.lang,
    password_hash: passwordHash,
    ip: meta.ip,
    created_at: now,
    decided_at: null,
    decided_by: null,
    decision_reason: null,
    new_user_id: null,
  };
  await insertCase(trx, c);
  const mail = registrationPendingMail(r.lang, r.code, s.branding);
  const mailId = await enqueueMail(trx, s.box, now, {
    kind: 'registration_pending',
    userId: null,
    to: r.email,
    subject: mail.subject,
    text: mail.text,
  });
  await s.audit(
    {
      event: 'registration_case.opened',
      outcome: 'pending',
      userId: holder.id,
      identifier: r.email,
      ip: meta.ip,
      userAgent: meta.userAgent,
      detail: { caseId: c.id, institutionCode: r.code, mailId },
    },
    trx,
  );
  return c;
}

export type DecideResult =
  | { ok: true; newUserId: string | null }
  | { ok: false; problem: 'not_found' | 'not_pending' | 'holder_changed' };

export interface OperatorMeta extends RequestMeta {
  actor: string;
}

/**
 * Approves after the call-back: the provisional account is closed (its sessions and reset links end), the
 * registrant's account opens with the password chosen at registration, and the registrant gets the completion mail.
 */
export async function approveCase(
  s: Services,
  id: string,
  reason: string,
  checks: CallbackCheck[],
  m: OperatorMeta,
): Promise<DecideResult> {
  const now = s.now();
  const newUserId = randomId();
  const result = await s.db.transaction().execute(async (trx): Promise<DecideResult> => {
    const c = await findCaseById(trx, id);
    if (!c) return { ok: false, problem: 'not_found' };
    if (c.status !== 'pending' || !c.password_hash) return { ok: false, problem: 'not_pending' };
    if (s.dialect === 'postgres') await lockUser(trx, c.holder_id);
    const holder = await findUserById(trx, c.holder_id);
    const open = await findInstitutionAccount(trx, c.institution_code);
    // The provisional account may have registered a real address, or been closed, since the case was opened.
    if (!holder || !isProvisionalHolder(holder) || open?.id !== holder.id)
      return { ok: false, problem: 'holder_changed' };
    if (!(await decideCase(trx, id, { status: 'approved', at: now, by: m.actor, reason, newUserId })))
      return { ok: false, problem: 'not_pending' };
    const sessionsEnded = await closeUser(trx, holder.id, now);
    await cancelOpenTokens(trx, holder.id, now, null);
    const base = { actor: m.actor, ip: m.ip, userAgent: m.userAgent };
    await s.audit(
      {
        event: 'account.superseded',
        outcome: 'closed',
        userId: holder.id,
        ...base,
        detail: { institutionCode: c.institution_code, caseId: c.id, newUserId, sessionsEnded },
      },
      trx,
    );
    const username = await assignUnique(trx, draftUsername);
    await insertUser(trx, {
      id: newUserId,
      username,
      user_id: null,
      account_type: 'institution',
      email: c.email,
      display_name: c.contact_name,
      institution_code: c.institution_code,
      status: 'active',
      password_hash: c.password_hash,
      failed_logins: 0,
      locked_until: null,
      created_at: now,
      updated_at: now,
      password_changed_at: c.created_at,
      institution_name: c.institution_name,
      phone: c.phone,
      legacy_hash: null,
      email_verified_at: c.created_at,
    });
    const mail = registrationCompleteMail(langOf(c.lang), username, null, s.branding);
    const mailId = await enqueueMail(trx, s.box, now, {
      kind: 'registration_complete',
      userId: newUserId,
      to: c.email,
      subject: mail.subject,
      text: mail.text,
    });
    await s.audit(
      {
        event: 'registration_case.approved',
        outcome: 'ok',
        userId: newUserId,
        identifier: c.email,
        ...base,
        detail: { caseId: c.id, reason, checks, supersededId: holder.id, mailId },
      },
      trx,
    );
    return { ok: true, newUserId };
  });
  if (result.ok) s.mailWorker.kick();
  return result;
}

/** Rejects (the call-back did not confirm): the provisional account stays as it is; the registrant is told by mail. */
export async function rejectCase(s: Services, id: string, reason: string, m: OperatorMeta): Promise<DecideResult> {
  const now = s.now();
  const result = await s.db.transaction().execute(async (trx): Promise<DecideResult> => {
    const c = await findCaseById(trx, id);
    if (!c) return { ok: false, problem: 'not_found' };
    if (!(await decideCase(trx, id, { status: 'rejected', at: now, by: m.actor, reason, newUserId: null })))
      return { ok: false, problem: 'not_pending' };
    const mail = registrationRejectedMail(langOf(c.lang), c.institution_code, s.branding);
    const mailId = await enqueueMail(trx, s.box, now, {
      kind: 'registration_rejected',
      userId: null,
      to: c.email,
      subject: mail.subject,
      text: mail.text,
    });
    await s.audit(
      {
        event: 'registration_case.rejected',
        outcome: 'ok',
        userId: c.holder_id,
        identifier: c.email,
        actor: m.actor,
        ip: m.ip,
        userAgent: m.userAgent,
        detail: { caseId: c.id, reason, mailId },
      },
      trx,
    );
    return { ok: true, newUserId: null };
  });
  if (result.ok) s.mailWorker.kick();
  return result;
}
