/**
 * HTTP for アカウント情報 (login required):
 *   GET /account                           details, coordinated codes, recent security events
 *   GET|POST /account/email                change of address, current password required (provisional accounts are sent here first)
 *   GET /account/email/verify?token=…      mailed link → 303 ?flow=… ; GET shows, POST confirms (a GET changes nothing)
 *   GET|POST /account/password             change of password
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.ts';
import type { AuditEntry, User } from '../../db/schema.ts';
import { listCoordinatorCodes } from '../../accounts/users.repository.ts';
import { listAuditForUser } from '../../security/audit.repository.ts';
import { baseCookie, browserKey, getCookieNames, pageContext } from '../../web/context.ts';
import { countTokenGuess, refuseTokenGuesser } from '../../security/token-guesses.ts';
import { queryParam, readForm } from '../../web/forms.ts';
import type { MessageKey, Translate } from '../../web/i18n/i18n.ts';
import { sendPage } from '../../web/render.ts';
import { japanDateTime } from '../../web/japan-time.ts';
import { loginRequiredUrl } from '../../web/next-path.ts';
import { loadFlow } from '../recovery/recovery.flow.ts';
import { openVerification, verificationOfFlow } from '../registration/registration.flow.ts';
import { RegisterLinkProblemPage } from '../registration/registration.views.tsx';
import {
  changeOwnPassword,
  confirmEmailChange,
  isProvisional,
  requestEmailChange,
  type EmailChangeResult,
} from './account.flow.ts';
import type { ReauthResult } from './reauth.ts';
import { AccountPage, EmailConfirmPage, EmailDonePage, EmailPage, PasswordPage } from './account.views.tsx';

/** Paths a provisional account may use before it has a real address. */
const PROVISIONAL_ALLOWED = [
  /^\/admin(\/|\?|$)/,
  /^\/account\/email(\/verify)?(\?|$)/,
  /^\/logout(\?|$)/,
  /^\/static\//,
  /^\/lang(\?|$)/,
  /^\/csm\/(faq|contact)(\?|$)/,
];

const EVENT_KEYS: Record<string, MessageKey> = {
  'login:ok': 'event.login.ok',
  logout: 'event.logout',
  'account.locked': 'event.account.locked',
  'password_reset.requested': 'event.password_reset.requested',
  'password_reset.completed': 'event.password_reset.completed',
  'password.changed:ok': 'event.password.changed',
  'password.changed:wrong_current': 'event.password.changeFailed',
  'password.migrated': 'event.password.migrated',
  'email.change_requested': 'event.email.change_requested',
  'email.change_requested:wrong_current': 'event.email.changeFailed',
  'email.changed': 'event.email.changed',
};

function eventLabel(t: Translate, e: AuditEntry): string {
  const key =
    EVENT_KEYS[`${e.event}:${e.outcome}`] ??
    EVENT_KEYS[e.event] ??
    (e.event === 'login' ? 'event.login.failed' : 'event.other');
  return t(key);
}

const SHOWN_EVENTS = new Set([
  'login',
  'logout',
  'account.locked',
  'password_reset.requested',
  'password_reset.completed',
  'password.changed',
  'email.change_requested',
  'email.changed',
  'password.migrated',
]);

function reauthMessage(t: Translate, r: Exclude<ReauthResult, 'ok'>): string {
  return r === 'required'
    ? t('field.passwordRequired')
    : r === 'throttled'
      ? t('account.reauth.throttled')
      : t('account.password.currentWrong');
}

export async function accountRoutes(app: FastifyInstance, s: Services): Promise<void> {
  /** The renewed session's cookie (V4), with the options of the login's (L3). */
  function setSessionCookie(reply: FastifyReply, sessionId: string) {
    const names = getCookieNames();
    reply.setCookie(names.session, sessionId, { ...baseCookie(names), maxAge: s.config.sessionAbsoluteHours * 3600 });
  }

  // A provisional account replaces its placeholder address before anything else (issue: provisional accounts).
  app.addHook('preHandler', async (request, reply) => {
    const user = request.user;
    if (!user || !isProvisional(user)) return;
    if (PROVISIONAL_ALLOWED.some((re) => re.test(request.url))) return;
    return reply.redirect('/account/email', 303);
  });

  function requireUser(request: FastifyRequest, reply: FastifyReply): User | undefined {
    reply.header('cache-control', 'no-store');
    if (!request.user) {
      reply.redirect(loginRequiredUrl(request), 303);
      return undefined;
    }
    return request.user;
  }

  app.get('/account', async (request, reply) => {
    const user = requireUser(request, reply);
    if (!user) return reply;
    const { t } = request;
    const codes = user.account_type === 'coordinator' ? await listCoordinatorCodes(s.db, user.id) : [];
    const rows: Array<[string, string]> = [
      [t('account.username'), user.username],
      ...(user.user_id ? [[t('account.userId'), user.user_id] as [string, string]] : []),
      [t('account.type'), t(user.account_type === 'coordinator' ? 'reg.type.coordinator' : 'reg.type.institution')],
      [t('account.institutionCode'), user.institution_code ?? t('account.none')],
      [t('account.institutionName'), user.institution_name ?? t('account.none')],
      [t('account.contactName'), user.display_name],
      [t('account.email'), user.email],
      [t('account.phone'), user.phone ?? t('account.none')],
      ...(user.account_type === 'coordinator'
        ? [[t('account.codes'), codes.join(', ') || t('account.none')] as [string, string]]
        : []),
    ];
    const events = (await listAuditForUser(s.db, user.id, 200))
      .filter((e) => SHOWN_EVENTS.has(e.event))
      .slice(0, 20)
      .map((e) => ({ when: japanDateTime(e.at), what: eventLabel(t, e), from: e.ip ?? '-' }));
    const m = queryParam(request, 'm');
    const notice = m === 'password' ? t('account.password.done') : m === 'email' ? t('account.email.done') : undefined;
    return sendPage(reply, AccountPage({ ctx: pageContext(request, reply), v: { rows, events, notice } }));
  });

  app.get('/account/email', async (request, reply) => {
    const user = requireUser(request, reply);
    if (!user) return reply;
    return sendPage(
      reply,
      EmailPage({
        ctx: pageContext(request, reply),
        v: {
          current: user.email,
          login: user.user_id ?? user.username,
          provisional: isProvisional(user),
          value: '',
          errors: {},
        },
      }),
    );
  });

  app.post(
    '/account/email',
    { preHandler: app.csrfProtection, config: { rateLimit: { max: 30, timeWindow: 60_000 } } },
    async (request, reply) => {
      const user = requireUser(request, reply);
      if (!user) return reply;
      const { t } = request;
      const { values, tooLong } = readForm(request, { email: 254, current: 1000 });
      // An over-long field is refused without looking further (a password of 1000+ characters is not this one).
      const result: EmailChangeResult = tooLong.length
        ? {
            ok: false,
            ...(tooLong.includes('email') ? { problem: 'invalid' as const } : {}),
            ...(tooLong.includes('current') ? { current: 'wrong' as const } : {}),
          }
        : await requestEmailChange(s, user, values.email, values.current, request.lang, request.meta);
      const ctx = pageContext(request, reply);
      const login = user.user_id ?? user.username;
      if (result.ok)
        return sendPage(
          reply,
          EmailPage({
            ctx,
            v: {
              current: user.email,
              login,
              provisional: isProvisional(user),
              value: '',
              errors: {},
              sentTo: result.email,
            },
          }),
        );
      const p = result.problem;
      const email =
        p === undefined
          ? undefined
          : p === 'required'
            ? t('reg.required', { label: t('account.email.new') })
            : p === 'same'
              ? t('account.email.same')
              : p === 'too_many'
                ? t('account.email.tooMany')
                : t('reset.emailInvalid');
      const current = result.current ? reauthMessage(t, result.current) : undefined;
      const status = p === 'too_many' || result.current === 'throttled' ? 429 : 400;
      return sendPage(
        reply,
        EmailPage({
          ctx,
          v: {
            current: user.email,
            login,
            provisional: isProvisional(user),
            value: values.email,
            errors: { email, current },
          },
        }),
        status,
      );
    },
  );

  function linkProblem(
    request: FastifyRequest,
    reply: FastifyReply,
    state: 'expired' | 'used' | 'cancelled' | 'invalid',
  ) {
    const ctx = pageContext(request, reply);
    const key: MessageKey =
      state === 'expired' ? 'reg.link.expired' : state === 'invalid' ? 'reg.link.invalid' : 'reg.link.used';
    return sendPage(
      reply,
      RegisterLinkProblemPage({
        ctx,
        heading: ctx.t('account.email.linkHeading'),
        message: ctx.t(key),
        restartHref: '/account/email',
        restartLabel: ctx.t('account.changeEmail'),
      }),
      state === 'invalid' ? 400 : 410,
    );
  }

  app.get(
    '/account/email/verify',
    { config: { rateLimit: { max: 30, timeWindow: 60_000 } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      reply.header('referrer-policy', 'no-referrer');
      const key = browserKey(request, reply);
      const token = queryParam(request, 'token');
      if (token !== undefined) {
        await refuseTokenGuesser(s, request.ip);
        const opened = await openVerification(s, token, 'email_change', key, request.lang, request.meta);
        if (opened.state !== 'valid') {
          if (opened.state === 'invalid') await countTokenGuess(s, request.ip);
          return linkProblem(request, reply, opened.state);
        }
        return reply.redirect(`/account/email/verify?flow=${opened.flow.id}`, 303);
      }
      const loaded = await loadFlow(s, queryParam(request, 'flow'), key, 'verify');
      if (!loaded.ok) return linkProblem(request, reply, loaded.reason === 'expired' ? 'expired' : 'invalid');
      const ctx = pageContext(request, reply);
      if (loaded.flow.state === 'done') return sendPage(reply, EmailDonePage({ ctx }));
      const { state, payload } = await verificationOfFlow(s, loaded.flow);
      if (state !== 'valid' || !payload) return linkProblem(request, reply, state === 'valid' ? 'invalid' : state);
      return sendPage(reply, EmailConfirmPage({ ctx, flowId: loaded.flow.id, email: payload.email }));
    },
  );

  app.post('/account/email/verify', { preHandler: app.csrfProtection }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const loaded = await loadFlow(s, queryParam(request, 'flow'), browserKey(request, reply), 'verify');
    if (!loaded.ok) return linkProblem(request, reply, loaded.reason === 'expired' ? 'expired' : 'invalid');
    if (loaded.flow.state === 'done') return reply.redirect(`/account/email/verify?flow=${loaded.flow.id}`, 303);
    const session =
      request.user && request.sessionHash ? { userId: request.user.id, idHash: request.sessionHash } : undefined;
    const result = await confirmEmailChange(s, loaded.flow, request.meta, session);
    if (!result.ok) return linkProblem(request, reply, result.state);
    if (result.sessionId) setSessionCookie(reply, result.sessionId);
    return reply.redirect(`/account/email/verify?flow=${loaded.flow.id}`, 303);
  });

  app.get('/account/password', async (request, reply) => {
    const user = requireUser(request, reply);
    if (!user) return reply;
    return sendPage(
      reply,
      PasswordPage({
        ctx: pageContext(request, reply),
        v: { ruleKey: s.policy.ruleKey as MessageKey, username: user.user_id ?? user.username, errors: {} },
      }),
    );
  });

  app.post(
    '/account/password',
    { preHandler: app.csrfProtection, config: { rateLimit: { max: 30, timeWindow: 60_000 } } },
    async (request, reply) => {
      const user = requireUser(request, reply);
      if (!user || !request.sessionHash) return reply;
      const { t } = request;
      const { values, tooLong } = readForm(request, { current: 1000, password: 1000, confirm: 1000 });
      const result = tooLong.length
        ? ({ ok: false, password: ['policy.tooLong'] } as const)
        : await changeOwnPassword(
            s,
            user,
            request.sessionHash,
            values.current,
            values.password,
            values.confirm,
            request.lang,
            request.meta,
          );
      if (result.ok) {
        setSessionCookie(reply, result.sessionId);
        return reply.redirect('/account?m=password', 303);
      }
      const params = { min: s.policy.min, max: s.policy.max };
      const errors = {
        ...('current' in result && result.current ? { current: reauthMessage(t, result.current) } : {}),
        ...(result.password
          ? {
              password:
                result.password === 'required'
                  ? [t('reset.newPasswordRequired')]
                  : result.password.map((k) => t(k, params)),
            }
          : {}),
        ...('confirm' in result && result.confirm
          ? { confirm: result.confirm === 'required' ? t('reset.confirmRequired') : t('reset.mismatch') }
          : {}),
      };
      const status = 'current' in result && result.current === 'throttled' ? 429 : 400;
      return sendPage(
        reply,
        PasswordPage({
          ctx: pageContext(request, reply),
          v: { ruleKey: s.policy.ruleKey as MessageKey, username: user.user_id ?? user.username, errors },
        }),
        status,
      );
    },
  );
}
