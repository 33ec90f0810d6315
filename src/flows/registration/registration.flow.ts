/**
 * 新規ユーザー登録: the form (with CAPTCHA) → a verification link (24 h, token rules of the reset link)
 * → set a password → the account, with a system-assigned ユーザー名 (coordinators also a ユーザーID).
 * A code or address that already has an account gets the same page; its owner gets a mail (no enumeration).
 * A code held by a provisional account gets the same pages and mails up to the link; then it waits for a call-back.
 */
import type { Services } from '../../services.ts';
import type { Flow, RegistrationCase, User } from '../../db/schema.ts';
import { checkPassword, type PolicyViolation } from '../../accounts/password-policy.ts';
import { hashPassword } from '../../accounts/passwords.ts';
import { isEmailAddress, isProvisionalPlaceholder, normalizeEmail } from '../../accounts/identity.ts';
import {
  normalizeInstitutionCode,
  validateInstitutionCode,
  type InstitutionCodeProblem,
} from '../../accounts/institution-code.ts';
import { assignUnique, draftUserId, draftUsername } from '../../accounts/identifiers.ts';
import {
  findAccountsByEmail,
  findInstitutionAccount,
  findUserById,
  insertCoordinatorCodes,
  insertUser,
} from '../../accounts/users.repository.ts';
import {
  cancelOpenVerifications,
  consumeVerification,
  countVerificationsSince,
  findVerificationByHash,
  findVerificationById,
  insertVerification,
  setVerificationAccount,
} from '../../accounts/email-verifications.repository.ts';
import { drawCaptchaColumns } from '../../security/captcha.ts';
import { linkStateOf, type LinkState } from '../../security/link-state.ts';
import { hashToken, isTokenShape, randomAlnum, randomId } from '../../security/tokens.ts';
import { enqueueMail } from '../../mail/outbox.repository.ts';
import {
  registrationCompleteMail,
  registrationDuplicateMail,
  registrationVerifyMail,
} from '../../mail/templates/account-mails.ts';
import type { Lang, MessageKey } from '../../web/i18n/i18n.ts';
import { browserHash, type RequestMeta } from '../recovery/recovery.flow.ts';
import { insertFlow, updateFlow } from '../recovery/recovery.repository.ts';
import { isProvisionalHolder, openCase } from './registration-cases.flow.ts';
import { findCaseByVerification } from './registration-cases.repository.ts';
import { addressBucket } from '../../security/address-bucket.ts';

const HOUR = 3600_000;
export const VERIFY_TTL_MS = 24 * HOUR;
export const MAX_CODES = 500;
const REGISTRATIONS_PER_IP_PER_HOUR = 10;
const MAILS_PER_ADDRESS_PER_HOUR = 3;

export interface RegistrationInput {
  accountType: 'institution' | 'coordinator';
  code: string;
  name: string;
  contact: string;
  email: string;
  phone: string;
  codes: string[];
}

export type FieldMessage = { key: MessageKey; params?: Record<string, string | number> };
export type RegistrationErrors = Partial<
  Record<'accountType' | 'code' | 'name' | 'contact' | 'email' | 'phone' | 'codes', FieldMessage[]>
>;

const CODE_KEYS: Record<InstitutionCodeProblem, MessageKey> = {
  format: 'reg.code.format',
  prefecture: 'reg.code.prefecture',
  table: 'reg.code.table',
  checkDigit: 'reg.code.checkDigit',
};

/** Checks the form; every failure is named next to its field (each rule of the institution code separately). */
export function validateRegistration(
  raw: Record<'accountType' | 'code' | 'name' | 'contact' | 'email' | 'phone' | 'codes', string>,
  labels: Record<'code' | 'name' | 'contact' | 'email' | 'phone', string>,
): { input: RegistrationInput; errors: RegistrationErrors } {
  const errors: RegistrationErrors = {};
  const add = (f: keyof RegistrationErrors, m: FieldMessage) => (errors[f] ??= []).push(m);
  const accountType =
    raw.accountType === 'coordinator' ? 'coordinator' : raw.accountType === 'institution' ? 'institution' : undefined;
  if (!accountType) add('accountType', { key: 'reg.typeRequired' });
  const code = normalizeInstitutionCode(raw.code);
  if (accountType !== 'coordinator') {
    if (!code) add('code', { key: 'reg.required', params: { label: labels.code } });
    else for (const p of validateInstitutionCode(code)) add('code', { key: CODE_KEYS[p] });
  } else if (code) for (const p of validateInstitutionCode(code)) add('code', { key: CODE_KEYS[p] });
  const name = raw.name.trim();
  const contact = raw.contact.trim();
  const email = raw.email.normalize('NFKC').trim();
  const phone = raw.phone.normalize('NFKC').trim();
  if (!name) add('name', { key: 'reg.required', params: { label: labels.name } });
  if (!contact) add('contact', { key: 'reg.required', params: { label: labels.contact } });
  if (!email) add('email', { key: 'reg.required', params: { label: labels.email } });
  else if (!isEmailAddress(email) || isProvisionalPlaceholder(email)) add('email', { key: 'reset.emailInvalid' });
  if (!phone) add('phone', { key: 'reg.required', params: { label: labels.phone } });
  else if (!/^0\d{1,4}-?\d{1,4}-?\d{3,4}$/.test(phone)) add('phone', { key: 'reg.phoneInvalid' });
  const codes: string[] = [];
  if (accountType === 'coordinator') {
    const lines = raw.codes
      .split('\n')
      .map((l) => normalizeInstitutionCode(l))
      .map((c, i) => ({ c, line: i + 1 }))
      .filter((x) => x.c);
    if (lines.length === 0) add('codes', { key: 'reg.codesRequired' });
    if (lines.length > MAX_CODES) add('codes', { key: 'reg.codesTooMany' });
    for (const { c, line } of lines.slice(0, MAX_CODES)) {
      const problems = validateInstitutionCode(c);
      if (problems.length)
        add('codes', { key: 'reg.codesLine', params: { line, code: c, message: CODE_KEYS[problems[0]!] } });
      else if (!codes.includes(c)) codes.push(c);
    }
  }
  return { input: { accountType: accountType ?? 'institution', code, name, contact, email, phone, codes }, errors };
}

function captchaFields(s: Services, flowId: string) {
  return drawCaptchaColumns({
    secret: s.config.sessionSecret,
    seal: s.box.seal,
    flowId,
    testAnswer: s.config.captchaTestAnswer,
    now: s.now(),
  });
}

export async function startRegistration(s: Services, browserKey: string, lang: Lang): Promise<Flow> {
  const now = s.now();
  const id = randomAlnum(32);
  const flow: Flow = {
    id,
    kind: 'registration',
    state: 'identify',
    browser_hash: browserHash(s, browserKey),
    lang,
    identifier: '',
    user_id: null,
    token_id: null,
    ...captchaFields(s, id),
    created_at: now,
    updated_at: now,
    expires_at: now + s.config.flowTtlMinutes * 60_000,
  };
  await insertFlow(s.db, flow);
  return flow;
}

export async function redrawRegistrationCaptcha(s: Services, flow: Flow): Promise<Flow> {
  const patch = { ...captchaFields(s, flow.id), updated_at: s.now() };
  await updateFlow(s.db, flow.id, patch);
  return { ...flow, ...patch };
}

async function countDuplicateNoticesSince(db: Services['db'], to: string, since: number): Promise<number> {
  const r = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('kind', '=', 'registration_duplicate')
    .where('to_addr', '=', to)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export type RegistrationOutcome = 'mail_queued' | 'duplicate' | 'rate_limited';

/** After the form and CAPTCHA passed: the same 「確認メールを送信しました」 page follows whatever happens here. */
export async function submitRegistration(
  s: Services,
  flow: Flow,
  lang: Lang,
  input: RegistrationInput,
  meta: RequestMeta,
): Promise<RegistrationOutcome> {
  const now = s.now();
  const email = normalizeEmail(input.email);
  const ipCount = await s.counters.hit(`register:ip:${addressBucket(meta.ip)}`, HOUR);
  const base = { ip: meta.ip, userAgent: meta.userAgent, identifier: email };
  let outcome: RegistrationOutcome;
  const byCode = input.accountType === 'institution' ? await findInstitutionAccount(s.db, input.code) : undefined;
  const byEmail = (await findAccountsByEmail(s.db, email))[0];
  const existing = byCode && byCode.status !== 'provisional' ? byCode : byEmail;
  if (
    ipCount > REGISTRATIONS_PER_IP_PER_HOUR ||
    (await countVerificationsSince(s.db, email, now - HOUR)) >= MAILS_PER_ADDRESS_PER_HOUR
  )
    outcome = 'rate_limited';
  // The owner's address is limited too: requests from many addresses and IPs must not flood it with notices (R3).
  else if (
    existing &&
    (await countDuplicateNoticesSince(s.db, existing.email, now - HOUR)) >= MAILS_PER_ADDRESS_PER_HOUR
  )
    outcome = 'rate_limited';
  else if (existing) outcome = 'duplicate';
  else outcome = 'mail_queued';

  await s.db.transaction().execute(async (trx) => {
    await updateFlow(trx, flow.id, {
      state: 'sent',
      lang,
      captcha_hash: null,
      captcha_answer: null,
      captcha_svg: null,
      captcha_spoken: null,
      updated_at: now,
    });
    if (outcome === 'duplicate' && existing) {
      const mail = registrationDuplicateMail(lang, existing.user_id ?? existing.username, s.branding);
      const mailId = isProvisionalPlaceholder(existing.email)
        ? null
        : await enqueueMail(trx, s.box, now, {
            kind: 'registration_duplicate',
            userId: existing.id,
            to: existing.email,
            subject: mail.subject,
            text: mail.text,
          });
      await s.audit(
        {
          event: 'registration.requested',
          outcome: 'duplicate',
          userId: existing.id,
          ...base,
          detail: { by: existing === byCode ? 'institution_code' : 'email', mailId },
        },
        trx,
      );
      return;
    }
    if (outcome === 'rate_limited') {
      await s.audit({ event: 'registration.requested', outcome, ...base, userId: existing?.id ?? null }, trx);
      return;
    }
    const token = randomAlnum(32);
    await cancelOpenVerifications(trx, 'register', { email }, now);
    const id = randomId();
    await insertVerification(trx, {
      id,
      purpose: 'register',
      token_hash: hashToken(token),
      email,
      user_id: null,
      payload_enc: s.box.seal(JSON.stringify({ ...input, email, lang })),
      created_at: now,
      expires_at: now + VERIFY_TTL_MS,
      used_at: null,
      cancelled_at: null,
    });
    const mail = registrationVerifyMail(lang, `${s.config.baseUrl}/register/verify?token=${token}`, s.branding);
    const mailId = await enqueueMail(trx, s.box, now, {
      kind: 'registration_verify',
      userId: null,
      to: email,
      subject: mail.subject,
      text: mail.text,
    });
    await s.audit(
      {
        event: 'registration.requested',
        outcome,
        ...base,
        detail: { mailId, accountType: input.accountType, institutionCode: input.code || null },
      },
      trx,
    );
  });
  if (outcome !== 'rate_limited') s.mailWorker.kick();
  return outcome;
}

/** A link that cannot be used names its verification when there is one, for outcomeOfUsedLink. */
export type OpenVerification =
  | { state: 'valid'; flow: Flow }
  | { state: Exclude<LinkState, 'valid'>; verificationId?: string };

/** The mailed link: checked, never used up by opening (T3); moves to a tokenless URL bound to this browser. */
export async function openVerification(
  s: Services,
  token: unknown,
  purpose: 'register' | 'email_change',
  browserKey: string,
  lang: Lang,
  meta: RequestMeta,
): Promise<OpenVerification> {
  const now = s.now();
  const v = isTokenShape(token) ? await findVerificationByHash(s.db, hashToken(token)) : undefined;
  const state = v && v.purpose === purpose ? linkStateOf(v, now) : 'invalid';
  await s.audit({
    event: `${purpose === 'register' ? 'registration' : 'email'}.link_opened`,
    outcome: state,
    userId: v?.user_id ?? null,
    ip: meta.ip,
    userAgent: meta.userAgent,
  });
  if (state !== 'valid' || !v)
    return {
      state: state as Exclude<LinkState, 'valid'>,
      ...(v && state !== 'invalid' ? { verificationId: v.id } : {}),
    };
  const id = randomAlnum(32);
  const flow: Flow = {
    id,
    kind: 'verify',
    state: 'reset',
    browser_hash: browserHash(s, browserKey),
    lang,
    identifier: v.email,
    user_id: v.user_id,
    token_id: v.id,
    captcha_hash: null,
    captcha_answer: null,
    captcha_svg: null,
    captcha_spoken: null,
    captcha_mode: 'image',
    captcha_expires_at: null,
    created_at: now,
    updated_at: now,
    expires_at: Math.min(v.expires_at, now + s.config.flowTtlMinutes * 60_000),
  };
  await insertFlow(s.db, flow);
  return { state: 'valid', flow };
}

export async function verificationOfFlow(
  s: Services,
  flow: Flow,
): Promise<{ state: LinkState; payload?: RegistrationInput & { lang: Lang } }> {
  const v = flow.token_id ? await findVerificationById(s.db, flow.token_id) : undefined;
  const state = linkStateOf(v, s.now());
  if (!v) return { state };
  return { state, payload: JSON.parse(s.box.open(v.payload_enc)) };
}

export type CompleteRegistration =
  | { ok: true; user: User }
  | { ok: true; pendingCase: RegistrationCase }
  | { ok: false; kind: 'fields'; password: PolicyViolation[] | 'required'; confirm?: 'required' | 'mismatch' }
  | { ok: false; kind: 'link'; state: Exclude<LinkState, 'valid'> };

/**
 * Sets the password and creates the account. For a code held by a provisional account it opens a pending case
 * instead (V5): the provisional account stays until the call center approves (registration-cases.flow.ts).
 */
export async function completeRegistration(
  s: Services,
  flow: Flow,
  password: string,
  confirm: string,
  meta: RequestMeta,
): Promise<CompleteRegistration> {
  const { state, payload } = await verificationOfFlow(s, flow);
  if (state !== 'valid' || !payload) return { ok: false, kind: 'link', state: state === 'valid' ? 'invalid' : state };
  if (!password)
    return { ok: false, kind: 'fields', password: 'required', ...(confirm ? {} : { confirm: 'required' as const }) };
  const violations = await checkPassword(s.policy, password, [], payload.email.split('@')[0]);
  const confirmError = !confirm ? ('required' as const) : confirm !== password ? ('mismatch' as const) : undefined;
  if (violations.length || confirmError)
    return { ok: false, kind: 'fields', password: violations, ...(confirmError ? { confirm: confirmError } : {}) };
  const hash = await hashPassword(password);
  const now = s.now();
  const result = await s.db.transaction().execute(async (trx) => {
    if (!(await consumeVerification(trx, flow.token_id!, now))) return undefined;
    if (payload.accountType === 'institution') {
      const holder = await findInstitutionAccount(trx, payload.code);
      if (holder && !isProvisionalHolder(holder)) return 'duplicate' as const;
      if (holder) {
        const pendingCase = await openCase(
          s,
          trx,
          holder,
          { ...payload, lang: payload.lang === 'en' ? 'en' : 'ja' },
          flow.token_id!,
          hash,
          meta,
        );
        await updateFlow(trx, flow.id, { state: 'done', updated_at: now });
        return { pendingCase };
      }
    }
    const username = await assignUnique(trx, draftUsername);
    const userId = payload.accountType === 'coordinator' ? await assignUnique(trx, draftUserId) : null;
    const user: User = {
      id: randomId(),
      username,
      user_id: userId,
      account_type: payload.accountType,
      email: payload.email,
      display_name: payload.contact,
      institution_code: payload.code || null,
      status: 'active',
      password_hash: hash,
      failed_logins: 0,
      locked_until: null,
      created_at: now,
      updated_at: now,
      password_changed_at: now,
      institution_name: payload.name,
      phone: payload.phone,
      legacy_hash: null,
      email_verified_at: now,
    };
    await insertUser(trx, user);
    await setVerificationAccount(trx, flow.token_id!, user.id);
    await insertCoordinatorCodes(trx, user.id, payload.codes);
    const mail = registrationCompleteMail(payload.lang, username, userId, s.branding);
    const mailId = await enqueueMail(trx, s.box, now, {
      kind: 'registration_complete',
      userId: user.id,
      to: user.email,
      subject: mail.subject,
      text: mail.text,
    });
    await updateFlow(trx, flow.id, { state: 'done', user_id: user.id, identifier: username, updated_at: now });
    await s.audit(
      {
        event: 'registration.completed',
        outcome: 'ok',
        userId: user.id,
        ip: meta.ip,
        userAgent: meta.userAgent,
        detail: { accountType: user.account_type, mailId, codes: payload.codes.length },
      },
      trx,
    );
    return user;
  });
  if (result === 'duplicate' || result === undefined) {
    return {
      ok: false,
      kind: 'link',
      state:
        result === 'duplicate' ? 'used' : ((await verificationOfFlow(s, flow)).state as Exclude<LinkState, 'valid'>),
    };
  }
  s.mailWorker.kick();
  return 'pendingCase' in result ? { ok: true, pendingCase: result.pendingCase } : { ok: true, user: result };
}

/**
 * Whether completing this registration will open a pending case (shown on the password page, after the link:
 * only the holder of the registrant's address sees it).
 */
export async function needsCallBack(s: Services, payload: RegistrationInput): Promise<boolean> {
  if (payload.accountType !== 'institution' || !payload.code) return false;
  const holder = await findInstitutionAccount(s.db, payload.code);
  return holder !== undefined && isProvisionalHolder(holder);
}

/** The case a completed verification link opened, if it opened one (the registrant's completion page). */
export async function caseOfFlow(s: Services, flow: Flow): Promise<RegistrationCase | undefined> {
  return flow.token_id ? findCaseByVerification(s.db, flow.token_id) : undefined;
}

/** What became of a used registration link: an account (log in), a case waiting for the call-back, or neither. */
export type UsedLinkOutcome =
  | { kind: 'registered' }
  | { kind: 'pending'; pendingCase: RegistrationCase }
  | { kind: 'other' };

/**
 * Why a registration link is used up (issue 11 item 7): it made an account that is still open, or a case that is
 * pending or was approved — else (a code that another registration took first, a refused case, a closed account)
 * the page keeps saying only that the link was used.
 */
export async function outcomeOfUsedLink(s: Services, verificationId: string): Promise<UsedLinkOutcome> {
  const v = await findVerificationById(s.db, verificationId);
  if (!v || v.purpose !== 'register' || v.used_at === null) return { kind: 'other' };
  const pendingCase = v.user_id ? undefined : await findCaseByVerification(s.db, v.id);
  if (pendingCase?.status === 'pending') return { kind: 'pending', pendingCase };
  // The account the link made itself, or the one the call center opened when it approved the case.
  const accountId = v.user_id ?? (pendingCase?.status === 'approved' ? pendingCase.new_user_id : null);
  const user = accountId ? await findUserById(s.db, accountId) : undefined;
  return user && user.status !== 'closed' ? { kind: 'registered' } : { kind: 'other' };
}
