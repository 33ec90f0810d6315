/**
 * HTTP for 新規ユーザー登録.
 *   GET  /register                   starts a flow (303 to ?flow=…)       POST /register?flow=…  the form
 *   GET  /register/captcha?flow=…    the CAPTCHA picture (PNG)     GET /register/pow?flow=…  a proof-of-work challenge
 *   GET  /register/verify?token=…    the mailed link → 303 /register/verify?flow=… (tokenless)
 *   GET|POST /register/verify?flow=… set the password; then the completion page with the ユーザー名 / ユーザーID, or, for a
 *                                    code held by a provisional account, the page saying the call center will call back
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.ts';
import type { Flow } from '../../db/schema.ts';
import { findUserById } from '../../accounts/users.repository.ts';
import { browserKey, pageContext } from '../../web/context.ts';
import { HttpError } from '../../web/errors.ts';
import { countTokenGuess, refuseTokenGuesser } from '../../security/token-guesses.ts';
import { queryParam, readForm } from '../../web/forms.ts';
import type { MessageKey } from '../../web/i18n/i18n.ts';
import { sendPage } from '../../web/render.ts';
import { checkCaptchaProof, loadFlow } from '../recovery/recovery.flow.ts';
import { captchaFailureMessage, captchaImage, captchaProofOf, powChallenge } from '../recovery/recovery.routes.ts';
import { POW_FIELD_MAX } from '../../security/proof-of-work.ts';
import { updateFlow } from '../recovery/recovery.repository.ts';
import {
  caseOfFlow,
  completeRegistration,
  needsCallBack,
  openVerification,
  outcomeOfUsedLink,
  redrawRegistrationCaptcha,
  startRegistration,
  submitRegistration,
  validateRegistration,
  verificationOfFlow,
  type FieldMessage,
} from './registration.flow.ts';
import {
  RegisterAlreadyDonePage,
  RegisterDonePage,
  RegisterLinkProblemPage,
  RegisterPage,
  RegisterPendingPage,
  RegisterSentPage,
  SetPasswordPage,
  type RegisterFormView,
} from './registration.views.tsx';

const FIELDS = {
  accountType: 20,
  code: 40,
  name: 200,
  contact: 100,
  email: 254,
  phone: 30,
  codes: 12_000,
  captcha: 20,
  pow: POW_FIELD_MAX,
  action: 20,
} as const;
const EMPTY = { accountType: 'institution', code: '', name: '', contact: '', email: '', phone: '', codes: '' };

function noStore(reply: FastifyReply) {
  reply.header('cache-control', 'no-store');
  reply.header('referrer-policy', 'no-referrer');
}

export async function registrationRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const flood = { rateLimit: { max: s.config.floodLimitPerMinute, timeWindow: 60_000 } };

  function form(
    request: FastifyRequest,
    reply: FastifyReply,
    flow: Flow,
    values: RegisterFormView['values'],
    errors: RegisterFormView['errors'],
    status = 200,
    pow?: string,
  ) {
    noStore(reply);
    return sendPage(
      reply,
      RegisterPage({
        ctx: pageContext(request, reply),
        v: { flowId: flow.id, values, errors, pow, phone: s.config.callCenterPhone },
      }),
      status,
    );
  }

  app.get('/register', { config: flood }, async (request, reply) => {
    const key = browserKey(request, reply);
    const flowId = queryParam(request, 'flow');
    if (flowId === undefined) {
      const flow = await startRegistration(s, key, request.lang);
      return reply.redirect(`/register?flow=${flow.id}`, 303);
    }
    const loaded = await loadFlow(s, flowId, key, 'registration');
    if (!loaded.ok) return reply.redirect('/register', 303);
    if (loaded.flow.state === 'sent') {
      noStore(reply);
      return sendPage(
        reply,
        RegisterSentPage({
          ctx: pageContext(request, reply),
          from: s.config.mailFrom,
          phone: s.config.callCenterPhone,
        }),
      );
    }
    return form(request, reply, loaded.flow, EMPTY, {});
  });

  app.get('/register/captcha', { config: flood }, captchaImage(s, 'registration'));
  app.get('/register/pow', { config: flood }, powChallenge(s, 'registration'));

  app.post('/register', { preHandler: app.csrfProtection, config: flood }, async (request, reply) => {
    const key = browserKey(request, reply);
    const loaded = await loadFlow(s, queryParam(request, 'flow'), key, 'registration');
    if (!loaded.ok) return reply.redirect('/register', 303);
    let flow = loaded.flow;
    if (flow.state !== 'identify') return reply.redirect(`/register?flow=${flow.id}`, 303);
    const { t, lang } = request;
    const read = readForm(request, FIELDS);
    const f = read.values;
    const values = {
      accountType: f.accountType,
      code: f.code,
      name: f.name,
      contact: f.contact,
      email: f.email,
      phone: f.phone,
      codes: f.codes,
    };
    const action = f.action || 'next';
    if (action === 'refresh') {
      flow = await redrawRegistrationCaptcha(s, flow);
      return form(request, reply, flow, values, {});
    }
    if (action !== 'next') throw new HttpError('BAD_REQUEST', 'unknown action');
    const labels = {
      code: t('reg.code'),
      name: t('reg.name'),
      contact: t('reg.contact'),
      email: t('reg.email'),
      phone: t('reg.phone'),
    };
    const { input, errors } = validateRegistration(values, labels);
    const msgs = (list: FieldMessage[] | undefined) =>
      list?.map((m) =>
        t(
          m.key,
          Object.fromEntries(
            Object.entries(m.params ?? {}).map(([k, v]) => [
              k,
              typeof v === 'string' && v.startsWith('reg.') ? t(v as MessageKey) : v,
            ]),
          ),
        ),
      );
    const shown: RegisterFormView['errors'] = {};
    for (const [field, list] of Object.entries(errors)) shown[field as keyof typeof errors] = msgs(list);
    for (const field of read.tooLong)
      if (field in EMPTY) (shown[field as keyof typeof errors] ??= []).push(t('field.tooLong', { max: FIELDS[field] }));
    const proof = captchaProofOf(f);
    // A solved proof of work is used up only with a form that is otherwise right (one pass per flow, K3); with
    // another field's error it comes back unused. Typed characters are checked every time.
    const keepPow = proof.kind === 'pow' && Object.keys(shown).length > 0 && !read.tooLong.includes('pow');
    const checked = keepPow
      ? 'ok'
      : proof.kind === 'typed' && !f.captcha.trim()
        ? 'missing'
        : await checkCaptchaProof(s, flow, proof, request.ip);
    if (checked === 'missing') shown.captcha = [t('reset.captchaRequired')];
    else if (checked !== 'ok') shown.captcha = [captchaFailureMessage(t, checked, s.config.callCenterPhone)];
    if (Object.keys(shown).length) {
      // A CAPTCHA is used once (R6): a new one comes with every re-shown form.
      flow = await redrawRegistrationCaptcha(s, flow);
      return form(
        request,
        reply,
        flow,
        values,
        shown,
        checked === 'pow_limited' ? 429 : 400,
        keepPow && proof.kind === 'pow' ? proof.value : undefined,
      );
    }
    await submitRegistration(s, flow, lang, input, request.meta);
    return reply.redirect(`/register?flow=${flow.id}`, 303);
  });

  /**
   * A link that cannot be used. A used one whose registration went through says so and offers the login (or, for a
   * case, the call-back), instead of asking to register again (issue 11 item 7); the link stays 410 either way.
   */
  async function linkProblem(
    request: FastifyRequest,
    reply: FastifyReply,
    state: 'expired' | 'used' | 'cancelled' | 'invalid',
    verificationId?: string | null,
  ) {
    noStore(reply);
    const ctx = pageContext(request, reply);
    const outcome =
      state === 'used' && verificationId ? await outcomeOfUsedLink(s, verificationId) : { kind: 'other' as const };
    if (outcome.kind === 'registered') return sendPage(reply, RegisterAlreadyDonePage({ ctx }), 410);
    if (outcome.kind === 'pending') {
      const c = outcome.pendingCase;
      return sendPage(
        reply,
        RegisterPendingPage({ ctx, code: c.institution_code, email: c.email, phone: s.config.callCenterPhone }),
        410,
      );
    }
    const key: MessageKey =
      state === 'expired' ? 'reg.link.expired' : state === 'invalid' ? 'reg.link.invalid' : 'reg.link.used';
    return sendPage(
      reply,
      RegisterLinkProblemPage({
        ctx,
        heading: ctx.t('reg.link.heading'),
        message: ctx.t(key),
        restartHref: '/register',
        restartLabel: ctx.t('reg.restart'),
      }),
      state === 'invalid' ? 400 : 410,
    );
  }

  app.get('/register/verify', { config: { rateLimit: { max: 30, timeWindow: 60_000 } } }, async (request, reply) => {
    noStore(reply);
    const key = browserKey(request, reply);
    const token = queryParam(request, 'token');
    if (token !== undefined) {
      await refuseTokenGuesser(s, request.ip);
      const opened = await openVerification(s, token, 'register', key, request.lang, request.meta);
      if (opened.state !== 'valid') {
        if (opened.state === 'invalid') await countTokenGuess(s, request.ip);
        return linkProblem(request, reply, opened.state, opened.verificationId);
      }
      return reply.redirect(`/register/verify?flow=${opened.flow.id}`, 303);
    }
    const loaded = await loadFlow(s, queryParam(request, 'flow'), key, 'verify');
    if (!loaded.ok) return linkProblem(request, reply, loaded.reason === 'expired' ? 'expired' : 'invalid');
    const ctx = pageContext(request, reply);
    if (loaded.flow.state === 'done') {
      const user = loaded.flow.user_id ? await findUserById(s.db, loaded.flow.user_id) : undefined;
      if (user) return sendPage(reply, RegisterDonePage({ ctx, username: user.username, userId: user.user_id }));
      const pending = await caseOfFlow(s, loaded.flow);
      if (!pending) return linkProblem(request, reply, 'invalid');
      return sendPage(
        reply,
        RegisterPendingPage({
          ctx,
          code: pending.institution_code,
          email: pending.email,
          phone: s.config.callCenterPhone,
        }),
      );
    }
    const { state, payload } = await verificationOfFlow(s, loaded.flow);
    if (state !== 'valid' || !payload)
      return linkProblem(request, reply, state === 'valid' ? 'invalid' : state, loaded.flow.token_id);
    const callBack = await needsCallBack(s, payload);
    return sendPage(
      reply,
      SetPasswordPage({
        ctx,
        v: {
          flowId: loaded.flow.id,
          summary: summaryOf(ctx.t, payload),
          ruleKey: s.policy.ruleKey as MessageKey,
          errors: {},
          callBack,
        },
      }),
    );
  });

  app.post('/register/verify', { preHandler: app.csrfProtection, config: flood }, async (request, reply) => {
    noStore(reply);
    const key = browserKey(request, reply);
    const loaded = await loadFlow(s, queryParam(request, 'flow'), key, 'verify');
    if (!loaded.ok) return linkProblem(request, reply, loaded.reason === 'expired' ? 'expired' : 'invalid');
    const flow = loaded.flow;
    if (flow.state === 'done') return reply.redirect(`/register/verify?flow=${flow.id}`, 303);
    const read = readForm(request, { password: 1000, confirm: 1000 });
    const { t } = request;
    const result = read.tooLong.includes('password')
      ? ({ ok: false, kind: 'fields', password: ['policy.tooLong'] } as const)
      : await completeRegistration(s, flow, read.values.password, read.values.confirm, request.meta);
    if (result.ok) return reply.redirect(`/register/verify?flow=${flow.id}`, 303);
    if (result.kind === 'link') return linkProblem(request, reply, result.state, flow.token_id);
    const params = { min: s.policy.min, max: s.policy.max };
    const password =
      result.password === 'required' ? [t('reset.newPasswordRequired')] : result.password.map((k) => t(k, params));
    const confirm =
      'confirm' in result
        ? result.confirm === 'required'
          ? t('reset.confirmRequired')
          : result.confirm === 'mismatch'
            ? t('reset.mismatch')
            : undefined
        : undefined;
    const { payload } = await verificationOfFlow(s, flow);
    const ctx = pageContext(request, reply);
    await updateFlow(s.db, flow.id, { updated_at: s.now() });
    return sendPage(
      reply,
      SetPasswordPage({
        ctx,
        v: {
          flowId: flow.id,
          summary: payload ? summaryOf(ctx.t, payload) : [],
          ruleKey: s.policy.ruleKey as MessageKey,
          callBack: payload ? await needsCallBack(s, payload) : false,
          errors: { ...(password.length ? { password } : {}), ...(confirm ? { confirm } : {}) },
        },
      }),
      400,
    );
  });
}

function summaryOf(
  t: (k: MessageKey) => string,
  p: {
    accountType: string;
    code: string;
    name: string;
    contact: string;
    email: string;
    phone: string;
    codes: string[];
  },
): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    [t('reg.accountType'), t(p.accountType === 'coordinator' ? 'reg.type.coordinator' : 'reg.type.institution')],
    [t('reg.code'), p.code || t('account.none')],
    [t('reg.name'), p.name],
    [t('reg.contact'), p.contact],
    [t('reg.email'), p.email],
    [t('reg.phone'), p.phone],
  ];
  if (p.accountType === 'coordinator') rows.push([t('reg.codes'), p.codes.join(', ')]);
  return rows;
}
