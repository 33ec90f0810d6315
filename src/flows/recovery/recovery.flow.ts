/**
 * The password-reset flow of the seed: ① 特定 → ② 検証 → sent, then from the mailed link ③ リセット → done.
 * States and rules only: no HTTP here. Expected failures are returned as values.
 */
import type { Flow, ResetTokensTable, User } from '../../db/schema.ts';
import type { AuditInput } from '../../security/audit.repository.ts';
import type { Db } from '../../db/database.ts';
import type { Services } from '../../services.ts';
import { checkPassword, type PolicyViolation } from '../../accounts/password-policy.ts';
import { hashPassword } from '../../accounts/passwords.ts';
import { isProvisionalPlaceholder, normalizeEmail, normalizeIdentifier } from '../../accounts/identity.ts';
import { isOperatorLock, lockStateOf } from '../../accounts/lock-state.ts';
import {
  findUserById,
  findUsersByLoginKeys,
  lockUser,
  setPasswordAfterReset,
} from '../../accounts/users.repository.ts';
import { deleteSessionsOfUser } from '../../accounts/sessions.repository.ts';
import { checkCaptchaAnswer, drawCaptchaColumns } from '../../security/captcha.ts';
import { checkPow, type PowOutcome } from '../../security/proof-of-work.ts';
import { linkStateOf, type LinkState } from '../../security/link-state.ts';
import { hashToken, hmac, isTokenShape, randomAlnum, randomId, sameDigest } from '../../security/tokens.ts';
import { addressBucket } from '../../security/address-bucket.ts';
import { sourcesOfRequests, type AttemptSource } from '../../accounts/login-throttle.ts';
import { enqueueMail, enqueueMails, type NewMail } from '../../mail/outbox.repository.ts';
import { passwordResetMail } from '../../mail/templates/password-reset.ts';
import { passwordChangedMail } from '../../mail/templates/password-changed.ts';
import type { Lang } from '../../web/i18n/i18n.ts';
import {
  cancelOpenTokens,
  cancelOpenTokensOfUsers,
  claimResetRequests,
  consumeResetToken,
  countTokensSinceByUser,
  countTokensSinceByUserAndSource,
  deleteResetRequests,
  expireFlowsOfUser,
  findFlow,
  findResetTokenByHash,
  findResetTokenById,
  insertFlow,
  insertResetRequest,
  insertResetToken,
  insertResetTokens,
  takeCaptchaChallenge,
  updateFlow,
} from './recovery.repository.ts';

export interface RequestMeta {
  ip: string;
  userAgent: string;
}

/** Stage ② also reads the browser's device cookie: the owner's own device is not held by the per-account ceiling. */
export interface VerifyMeta extends RequestMeta {
  deviceCookie?: string | undefined;
}

/** A device cookie longer than any the portal sets (device-cookie.ts) is not kept. */
const DEVICE_COOKIE_MAX = 300;

/** Why a request for a reset mail sent nothing, or that it queued one: recorded in the audit trail only. */
export type ResetOutcome =
  | 'mail_queued'
  | 'unknown_user'
  | 'provisional_address'
  | 'email_mismatch'
  | 'account_locked'
  | 'rate_limited';

export type { LinkState };

const HOUR = 3600_000;

/** Binds a flow to the browser that started it, so that a flow id seen in history is useless elsewhere. */
export function browserHash(s: Services, browserKey: string): string {
  return hmac(s.config.sessionSecret, `browser:${browserKey}`);
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

/** Starts stage ① with a fresh CAPTCHA. */
export async function startRecovery(s: Services, browserKey: string, lang: Lang, _meta: RequestMeta): Promise<Flow> {
  const now = s.now();
  const id = randomAlnum(32);
  const flow: Flow = {
    id,
    kind: 'recovery',
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
  // Not audited: opening the page is not a security event (stage ① and ② are), and an anonymous GET should not
  // write to the audit trail.
  await insertFlow(s.db, flow);
  return flow;
}

export type LoadedFlow = { ok: true; flow: Flow } | { ok: false; reason: 'missing' | 'expired' };

/** Loads a flow for this browser; an expired one, or one of another browser, is not given out. */
export async function loadFlow(
  s: Services,
  id: unknown,
  browserKey: string | undefined,
  kind: Flow['kind'],
): Promise<LoadedFlow> {
  if (typeof id !== 'string' || !/^[A-Za-z0-9]{32}$/.test(id) || !browserKey) return { ok: false, reason: 'missing' };
  const flow = await findFlow(s.db, id);
  if (!flow || flow.kind !== kind || !sameDigest(flow.browser_hash, browserHash(s, browserKey)))
    return { ok: false, reason: 'missing' };
  if (flow.expires_at <= s.now()) return { ok: false, reason: 'expired' };
  return { ok: true, flow };
}

/** Draws a new CAPTCHA (the refresh button, a wrong or expired answer: R6). */
export async function redrawCaptcha(s: Services, flow: Flow, lang: Lang, identifier?: string): Promise<Flow> {
  const fields = captchaFields(s, flow.id);
  const patch = { ...fields, lang, updated_at: s.now(), ...(identifier !== undefined ? { identifier } : {}) };
  await updateFlow(s.db, flow.id, patch);
  return { ...flow, ...patch };
}

/** How stage ① is passed: the characters of the picture, or the proof of work solved by the browser (K2). */
export type CaptchaProof = { kind: 'typed'; answer: string } | { kind: 'pow'; value: string };

export type CaptchaFailure = 'wrong' | 'expired' | `pow_${Exclude<PowOutcome, 'ok'>}`;

export type IdentifyResult = { ok: true } | { ok: false; captcha: CaptchaFailure; flow: Flow };

/**
 * Checks a flow's CAPTCHA by either proof. The picture's challenge is used up either way by the caller (R6); a
 * proof of work is checked against its own limits and single use (proof-of-work.ts).
 */
export async function checkCaptchaProof(
  s: Services,
  flow: Flow,
  proof: CaptchaProof,
  ip: string,
): Promise<'ok' | CaptchaFailure> {
  if (proof.kind === 'pow') {
    const outcome = await checkPow(s, flow, proof.value, ip);
    return outcome === 'ok' ? 'ok' : `pow_${outcome}`;
  }
  const expired = flow.captcha_expires_at === null || flow.captcha_expires_at <= s.now() || !flow.captcha_hash;
  if (expired) return 'expired';
  // One check per picture (K6): taken atomically before the answer is compared, so that answers sent in parallel to
  // the same picture get one try between them, not one each.
  if (!(await takeCaptchaChallenge(s.db, flow.id, flow.captcha_hash!))) return 'expired';
  return checkCaptchaAnswer(s.config.sessionSecret, flow.id, proof.answer, flow.captcha_hash!) ? 'ok' : 'wrong';
}

/** Stage ①: keeps what was typed as identifier and checks the CAPTCHA, which is used up either way. */
export async function submitIdentify(
  s: Services,
  flow: Flow,
  lang: Lang,
  identifier: string,
  proof: CaptchaProof,
  meta: RequestMeta,
): Promise<IdentifyResult> {
  const typed = normalizeIdentifier(identifier);
  const now = s.now();
  const checked = await checkCaptchaProof(s, flow, proof, meta.ip);
  if (checked !== 'ok') {
    await s.audit({
      event: 'password_reset.captcha',
      outcome: checked,
      identifier: typed,
      ip: meta.ip,
      userAgent: meta.userAgent,
    });
    const next = await redrawCaptcha(s, flow, lang, identifier.trim());
    return { ok: false, captcha: checked, flow: next };
  }
  await s.db.transaction().execute(async (trx) => {
    await updateFlow(trx, flow.id, {
      state: 'verify',
      identifier: identifier.trim(),
      lang,
      captcha_hash: null,
      captcha_answer: null,
      captcha_svg: null,
      captcha_spoken: null,
      captcha_expires_at: null,
      updated_at: now,
    });
    await s.audit(
      {
        event: 'password_reset.identified',
        outcome: 'ok',
        identifier: typed,
        ip: meta.ip,
        userAgent: meta.userAgent,
        detail: { captcha: proof.kind === 'pow' ? 'proof_of_work' : 'picture' },
      },
      trx,
    );
  });
  return { ok: true };
}

/** Stage ② "back": returns to stage ① with the username kept (W4) and a new CAPTCHA. */
export async function backToIdentify(s: Services, flow: Flow): Promise<void> {
  await updateFlow(s.db, flow.id, { state: 'identify', ...captchaFields(s, flow.id), updated_at: s.now() });
}

/** The address typed at stage ②, as it is kept: an HMAC of its normal form, compared with the account's. */
function emailDigest(s: Services, email: string): string {
  return hmac(s.config.sessionSecret, `reset-email:${normalizeEmail(email)}`);
}

/**
 * Stage ②: records the request and moves the flow to "sent". Whatever the account (known or not, right address
 * or not), this is the same work: one counter and one transaction writing the flow and one request row (R1, R2).
 * Whether a mail goes out is decided a moment later by the worker (processResetRequests). Nothing on the account
 * changes (R4).
 */
export async function submitVerify(
  s: Services,
  flow: Flow,
  lang: Lang,
  email: string,
  meta: VerifyMeta,
): Promise<void> {
  const now = s.now();
  const ipCount = await s.counters.hit(`reset:ip:${addressBucket(meta.ip)}`, HOUR);
  // Sealed whatever the account (R2): the cookie is a bearer secret, and only the worker knows the account.
  const cookie =
    meta.deviceCookie && meta.deviceCookie.length <= DEVICE_COOKIE_MAX ? s.box.seal(meta.deviceCookie) : null;
  await s.db.transaction().execute(async (trx) => {
    await updateFlow(trx, flow.id, { state: 'sent', lang, updated_at: now });
    await insertResetRequest(trx, {
      id: randomId(),
      flow_id: flow.id,
      identifier: normalizeIdentifier(flow.identifier),
      email_hmac: emailDigest(s, email),
      lang,
      ip: meta.ip,
      user_agent: meta.userAgent,
      ip_limited: ipCount > s.config.resetRequestsPerIpPerHour ? 1 : 0,
      created_at: now,
      device_cookie_sealed: cookie,
    });
  });
  s.mailWorker.kick();
}

/**
 * The worker's half of stage ②: decides a batch of waiting requests and, in one transaction, issues the tokens
 * and queues the seed's mails, writes each outcome to the audit trail for the call center, and removes the
 * requests: a handful of statements per batch, not per request. On PostgreSQL the requests are locked with
 * SKIP LOCKED, so each is decided by exactly one instance. Returns how many were decided.
 */
export async function processResetRequests(s: Services, limit = 10): Promise<number> {
  return s.db.transaction().execute(async (trx) => {
    const requests = await claimResetRequests(trx, s.dialect, limit);
    if (requests.length === 0) return 0;
    const now = s.now();
    // The accounts are locked (PostgreSQL) before their recent tokens are counted: another instance deciding a
    // request for the same account waits, then sees these tokens (R3's per-account limit, T2's single open link).
    const users = await findUsersByLoginKeys(
      trx,
      requests.map((r) => r.identifier),
      { lock: s.dialect === 'postgres' },
    );
    const ids = [...new Set([...users.values()].map((u) => u.id))];
    const recent = await countTokensSinceByUser(trx, ids, now - HOUR);
    // R3: mails per (account, source) — the owner's device cookie, or an IPv4 address / IPv6 /64 — below a higher
    // ceiling per account from all sources together. The ceiling holds strangers only: a request from the owner's
    // device or from a network the account logged in from is limited by its own source's share alone, so that
    // strangers cannot use up the owner's mails (red team item 3).
    const recentFromSource = await countTokensSinceByUserAndSource(trx, ids, now - HOUR);
    const sources = await sourcesOfRequests(
      s,
      trx,
      requests.map((r) => {
        const user = r.identifier ? users.get(r.identifier) : undefined;
        return {
          subject: user ? `u:${user.id}` : '',
          ip: r.ip,
          deviceCookie: openDeviceCookie(s, r.device_cookie_sealed),
        };
      }),
    );
    const tokens: ResetTokensTable[] = [];
    const mails: Array<NewMail & { id: string }> = [];
    const audits: AuditInput[] = [];
    const lastTokenOf = new Map<string, ResetTokensTable>();
    for (const [i, r] of requests.entries()) {
      const user = r.identifier ? users.get(r.identifier) : undefined;
      const source: AttemptSource = sources[i]!;
      const owners = source.kind !== 'ip';
      const issued = user ? (recent.get(user.id) ?? 0) : 0;
      const fromSourceKey = user ? `${user.id} ${source.key}` : '';
      const fromSource = recentFromSource.get(fromSourceKey) ?? 0;
      let limit: 'ip' | 'account_ip' | 'account' | null = null;
      let outcome: ResetOutcome;
      // The per-address request limit holds the owner's device only by its own per-(account, device) share.
      if (r.ip_limited && source.kind !== 'device') [outcome, limit] = ['rate_limited', 'ip'];
      else if (!user) outcome = 'unknown_user';
      else if (user.status === 'provisional' || isProvisionalPlaceholder(user.email)) outcome = 'provisional_address';
      else if (!sameDigest(emailDigest(s, user.email), r.email_hmac)) outcome = 'email_mismatch';
      else if (lockStateOf(user, now) === 'indefinite') outcome = 'account_locked';
      else if (fromSource >= s.config.resetMailsPerAccountPerIpPerHour)
        [outcome, limit] = ['rate_limited', 'account_ip'];
      else if (!owners && issued >= s.config.resetMailsPerAccountPerHour)
        [outcome, limit] = ['rate_limited', 'account'];
      else outcome = 'mail_queued';
      // For the call center: a request from the owner's own device or network says so.
      const from = user && owners ? { source: source.kind } : {};
      let detail: Record<string, unknown> | null = limit ? { limit, ...from } : null;
      if (outcome === 'mail_queued' && user) {
        const { token, mail } = resetMailOf(s, user, r.lang === 'en' ? 'en' : 'ja', now, {
          ip: r.ip,
          source: source.key,
        });
        // Two requests for one account in a batch: the newer token replaces the older one (T2).
        const older = lastTokenOf.get(user.id);
        if (older) older.cancelled_at = now;
        lastTokenOf.set(user.id, token);
        recent.set(user.id, issued + 1);
        recentFromSource.set(fromSourceKey, fromSource + 1);
        tokens.push(token);
        mails.push(mail);
        detail = { mailId: mail.id, tokenId: token.id, ...from };
      }
      audits.push({
        event: 'password_reset.requested',
        outcome,
        userId: user?.id ?? null,
        identifier: r.identifier,
        ip: r.ip,
        userAgent: r.user_agent,
        detail,
      });
    }
    if (tokens.length) {
      await cancelOpenTokensOfUsers(trx, [...lastTokenOf.keys()], now);
      await insertResetTokens(trx, tokens);
      await enqueueMails(trx, s.box, now, mails);
    }
    await s.auditMany(audits, trx);
    await deleteResetRequests(
      trx,
      requests.map((r) => r.id),
    );
    return requests.length;
  });
}

/** The device cookie kept with a request, or undefined (none, or sealed under another secret). */
function openDeviceCookie(s: Services, sealed: string | null): string | undefined {
  if (!sealed) return undefined;
  try {
    return s.box.open(sealed);
  } catch {
    return undefined;
  }
}

/** A new reset token for the account and the seed's mail carrying its link (nothing written yet). */
function resetMailOf(
  s: Services,
  user: User,
  lang: Lang,
  now: number,
  requested: { ip: string; source: string } | null,
): { token: ResetTokensTable; mail: NewMail & { id: string } } {
  const secret = randomAlnum(32);
  const mail = passwordResetMail(
    lang,
    `${s.config.baseUrl}/passwordreset.do?sysparm_tiny=${secret}`,
    s.config.resetTokenTtlMinutes,
    s.branding,
  );
  return {
    token: {
      id: randomId(),
      user_id: user.id,
      token_hash: hashToken(secret),
      created_at: now,
      expires_at: now + s.config.resetTokenTtlMinutes * 60_000,
      used_at: null,
      cancelled_at: null,
      requested_ip: requested?.ip ?? null,
      requested_source: requested?.source ?? null,
    },
    mail: {
      id: randomId(),
      kind: 'password_reset',
      userId: user.id,
      to: user.email,
      subject: mail.subject,
      text: mail.text,
    },
  };
}

/**
 * Issues a new reset token (cancelling the older ones: T2) and queues the seed's mail with its link, in the
 * caller's transaction. Also used by the call center's "send a reset link" action.
 */
export async function queueResetMail(
  s: Services,
  trx: Db,
  user: User,
  lang: Lang,
  now: number,
): Promise<{ mailId: string; tokenId: string }> {
  const { token, mail } = resetMailOf(s, user, lang, now, null);
  if (s.dialect === 'postgres') await lockUser(trx, user.id);
  await cancelOpenTokens(trx, user.id, now, null);
  await insertResetToken(trx, token);
  await enqueueMails(trx, s.box, now, [mail]);
  return { mailId: mail.id, tokenId: token.id };
}

export type OpenLinkResult = { state: 'valid'; flow: Flow } | { state: Exclude<LinkState, 'valid'> };

/**
 * The mailed link. Opening it never uses the token up (T3: mail scanners open links first); it starts a
 * stage-③ flow bound to this browser so that the token can leave the address bar (T5).
 */
export async function openResetLink(
  s: Services,
  token: unknown,
  browserKey: string,
  lang: Lang,
  meta: RequestMeta,
): Promise<OpenLinkResult> {
  const now = s.now();
  const found = isTokenShape(token) ? await findResetTokenByHash(s.db, hashToken(token)) : undefined;
  const state: LinkState = found ? linkStateOf(found, now) : 'invalid';
  await s.audit({
    event: 'password_reset.link_opened',
    outcome: state,
    userId: found?.user_id ?? null,
    ip: meta.ip,
    userAgent: meta.userAgent,
  });
  if (state !== 'valid' || !found) return { state: state as Exclude<LinkState, 'valid'> };
  const user = await findUserById(s.db, found.user_id);
  if (!user) return { state: 'invalid' };
  const id = randomAlnum(32);
  const flow: Flow = {
    id,
    kind: 'reset',
    state: 'reset',
    browser_hash: browserHash(s, browserKey),
    lang,
    identifier: user.user_id ?? user.username,
    user_id: user.id,
    token_id: found.id,
    captcha_hash: null,
    captcha_answer: null,
    captcha_svg: null,
    captcha_spoken: null,
    captcha_mode: 'image',
    captcha_expires_at: null,
    created_at: now,
    updated_at: now,
    expires_at: Math.min(found.expires_at, now + s.config.flowTtlMinutes * 60_000),
  };
  await insertFlow(s.db, flow);
  return { state: 'valid', flow };
}

/** The state of the token behind a stage-③ flow, checked again on every request. */
export async function tokenStateOfFlow(s: Services, flow: Flow): Promise<LinkState> {
  if (!flow.token_id) return 'invalid';
  const token = await findResetTokenById(s.db, flow.token_id);
  return token ? linkStateOf(token, s.now()) : 'invalid';
}

export type CompleteResult =
  | { ok: true }
  | { ok: false; kind: 'fields'; password: PolicyViolation[] | 'required'; confirm?: 'required' | 'mismatch' }
  | { ok: false; kind: 'link'; state: Exclude<LinkState, 'valid'> };

/**
 * Stage ③: checks the new password (C1), then in one transaction uses the token up, sets the password,
 * lifts a lockout from failed logins (an operator's lock stays: S12), cancels every other token and flow, ends every session (C3) and queues the
 * 「パスワード変更のお知らせ」 mail (C4). No login follows (C2).
 */
export async function completeReset(
  s: Services,
  flow: Flow,
  password: string,
  confirm: string,
  meta: RequestMeta,
): Promise<CompleteResult> {
  const user = flow.user_id ? await findUserById(s.db, flow.user_id) : undefined;
  const state = await tokenStateOfFlow(s, flow);
  if (!user || state !== 'valid') return { ok: false, kind: 'link', state: state === 'valid' ? 'invalid' : state };
  if (!password)
    return { ok: false, kind: 'fields', password: 'required', ...(confirm ? {} : { confirm: 'required' as const }) };
  const violations = await checkPassword(s.policy, password, [user.username, user.user_id]);
  const confirmError = !confirm ? ('required' as const) : confirm !== password ? ('mismatch' as const) : undefined;
  if (violations.length || confirmError) {
    await s.audit({
      event: 'password_reset.password_rejected',
      outcome: violations.length ? 'policy' : 'confirm',
      userId: user.id,
      ip: meta.ip,
      userAgent: meta.userAgent,
      detail: { rules: violations },
    });
    return { ok: false, kind: 'fields', password: violations, ...(confirmError ? { confirm: confirmError } : {}) };
  }
  const hash = await hashPassword(password);
  const now = s.now();
  const mail = passwordChangedMail(flow.lang === 'en' ? 'en' : 'ja', user.user_id ?? user.username, now, s.branding);
  const done = await s.db.transaction().execute(async (trx) => {
    if (!(await consumeResetToken(trx, flow.token_id!, now))) return false;
    await setPasswordAfterReset(trx, user, hash, now);
    await cancelOpenTokens(trx, user.id, now, flow.token_id);
    await expireFlowsOfUser(trx, user.id, now, flow.id);
    const sessionsEnded = await deleteSessionsOfUser(trx, user.id);
    await updateFlow(trx, flow.id, { state: 'done', updated_at: now });
    const mailId = isProvisionalPlaceholder(user.email)
      ? null
      : await enqueueMail(trx, s.box, now, {
          kind: 'password_changed',
          userId: user.id,
          to: user.email,
          subject: mail.subject,
          text: mail.text,
        });
    await s.audit(
      {
        event: 'password_reset.completed',
        outcome: 'ok',
        userId: user.id,
        ip: meta.ip,
        userAgent: meta.userAgent,
        detail: { sessionsEnded, mailId, unlocked: user.status === 'locked' && !isOperatorLock(user) },
      },
      trx,
    );
    return true;
  });
  if (!done)
    return { ok: false, kind: 'link', state: (await tokenStateOfFlow(s, flow)) as Exclude<LinkState, 'valid'> };
  s.mailWorker.kick();
  return { ok: true };
}
