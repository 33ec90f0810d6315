/**
 * HTTP for the password reset. Each handler: flow → parse → check → call the flow → render or 303.
 *   GET  /password-reset                 starts a flow (303 to ?flow=…)
 *   GET  /password-reset?flow=…          the stage the flow is in (①, ② or sent)
 *   POST /password-reset?flow=…          stage ① or ② (and CAPTCHA refresh / back)
 *   GET  /password-reset/captcha?flow=…  the CAPTCHA picture, a PNG (changes nothing)
 *   GET  /password-reset/pow?flow=…      a proof-of-work challenge for the non-visual alternative (JSON; stores nothing)
 *   GET  /passwordreset.do?sysparm_tiny=…  the mailed link: 303 to a tokenless URL bound to a flow (T5)
 *   GET|POST /passwordreset.do?flow=…    stage ③ and the success page
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.ts';
import type { Flow } from '../../db/schema.ts';
import { isResetAddress } from '../../accounts/identity.ts';
import { formatDuration } from '../../mail/templates/contact-block.ts';
import { browserKey, getCookieNames, pageContext } from '../../web/context.ts';
import { readForm, queryParam } from '../../web/forms.ts';
import { HttpError } from '../../web/errors.ts';
import { captchaSeed } from '../../security/captcha.ts';
import { drawCaptchaPng } from '../../security/captcha-picture.ts';
import { newPowChallenge, POW_FIELD_MAX, powLimited } from '../../security/proof-of-work.ts';
import { countTokenGuess, refuseTokenGuesser } from '../../security/token-guesses.ts';
import type { MessageKey } from '../../web/i18n/i18n.ts';
import { sendPage } from '../../web/render.ts';
import {
  backToIdentify,
  completeReset,
  loadFlow,
  openResetLink,
  redrawCaptcha,
  startRecovery,
  submitIdentify,
  type CaptchaFailure,
  type CaptchaProof,
  submitVerify,
  tokenStateOfFlow,
  type CompleteResult,
  type LinkState,
} from './recovery.flow.ts';
import { DonePage, IdentifyPage, LinkProblemPage, ResetPage, SentPage, VerifyPage } from './recovery.views.tsx';

const NOTICES = { expired: 'reset.flowExpired', order: 'reset.outOfOrder' } as const satisfies Record<
  string,
  MessageKey
>;

/** T5 and the reset pages: no referrer, nothing cached. */
function privatePage(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
  reply.header('referrer-policy', 'no-referrer');
}

/**
 * The CAPTCHA picture of a flow of this browser, a PNG drawn from the sealed answer (a GET: it changes nothing).
 * A flow of an older version that kept an SVG has no picture here; its next redraw makes one.
 */
export function captchaImage(s: Services, kind: 'recovery' | 'registration') {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const loaded = await loadFlow(s, queryParam(request, 'flow'), request.cookies[getCookieNames().browser], kind);
    if (!loaded.ok || !loaded.flow.captcha_hash || !loaded.flow.captcha_answer) throw new HttpError('NOT_FOUND');
    reply.header('cache-control', 'no-store');
    const sealed = loaded.flow.captcha_answer;
    return reply
      .type('image/png')
      .send(await drawCaptchaPng(s.box.open(sealed), captchaSeed(s.config.sessionSecret, loaded.flow.id, sealed)));
  };
}

/**
 * A proof-of-work challenge for the flow (K2), fetched by /static/captcha-pow.js when the person asks for it.
 * Stateless (signed for the flow, it expires); when the flow or the address has used its passes (K3), it says so
 * instead, and the page tells the person to type the characters or call.
 */
export function powChallenge(s: Services, kind: 'recovery' | 'registration') {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const loaded = await loadFlow(s, queryParam(request, 'flow'), request.cookies[getCookieNames().browser], kind);
    if (!loaded.ok || loaded.flow.state !== 'identify') throw new HttpError('NOT_FOUND');
    reply.header('cache-control', 'no-store');
    if (await powLimited(s, loaded.flow, request.ip)) return reply.type('application/json').send({ limited: true });
    return reply.type('application/json').send({ challenge: await newPowChallenge(s, loaded.flow) });
  };
}

/** The message under the CAPTCHA field for a failed check, in the page's language. */
export function captchaFailureMessage(t: FastifyRequest['t'], failure: CaptchaFailure, phone: string): string {
  const key: Record<CaptchaFailure, MessageKey> = {
    wrong: 'reset.captchaWrong',
    expired: 'reset.captchaExpired',
    pow_invalid: 'captcha.pow.invalid',
    pow_expired: 'captcha.pow.expired',
    pow_replayed: 'captcha.pow.invalid',
    pow_limited: 'captcha.pow.limited',
  };
  return t(key[failure], { phone });
}

/** The proof posted with a form: a proof-of-work solution when the browser filled one in, else the typed characters. */
export function captchaProofOf(f: { captcha: string; pow: string }): CaptchaProof {
  return f.pow.trim() ? { kind: 'pow', value: f.pow.trim() } : { kind: 'typed', answer: f.captcha };
}

export async function recoveryRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const ttl = (lang: 'ja' | 'en') => formatDuration(s.config.resetTokenTtlMinutes, lang);
  const flood = { rateLimit: { max: s.config.floodLimitPerMinute, timeWindow: 60_000 } };

  function renderStage(
    request: FastifyRequest,
    reply: FastifyReply,
    flow: Flow,
    opts: {
      status?: number;
      notice?: MessageKey | undefined;
      usernameError?: string;
      captchaError?: string;
      pow?: string;
      email?: string;
      emailError?: string;
    } = {},
  ) {
    privatePage(reply);
    const ctx = pageContext(request, reply);
    const status = opts.status ?? 200;
    if (flow.state === 'identify') {
      return sendPage(
        reply,
        IdentifyPage({
          ctx,
          v: {
            flowId: flow.id,
            username: flow.identifier,
            phone: s.config.callCenterPhone,
            pow: opts.pow,
            notice: opts.notice,
            errors: {
              ...(opts.usernameError ? { username: opts.usernameError } : {}),
              ...(opts.captchaError ? { captcha: opts.captchaError } : {}),
            },
          },
        }),
        status,
      );
    }
    if (flow.state === 'verify') {
      return sendPage(
        reply,
        VerifyPage({
          ctx,
          v: {
            flowId: flow.id,
            username: flow.identifier,
            email: opts.email ?? '',
            notice: opts.notice,
            errors: opts.emailError ? { email: opts.emailError } : {},
          },
        }),
        status,
      );
    }
    return sendPage(
      reply,
      SentPage({
        ctx,
        from: s.config.mailFrom,
        ttl: ttl(request.lang),
        phone: s.config.callCenterPhone,
        notice: opts.notice,
      }),
      status,
    );
  }

  app.get('/password-reset', { config: flood }, async (request, reply) => {
    const flowId = queryParam(request, 'flow');
    const key = browserKey(request, reply);
    const noticeParam = queryParam(request, 'm');
    const notice = noticeParam === 'expired' ? NOTICES.expired : undefined;
    if (flowId === undefined) {
      const flow = await startRecovery(s, key, request.lang, request.meta);
      privatePage(reply);
      return reply.redirect(`/password-reset?flow=${flow.id}${notice ? '&m=expired' : ''}`, 303);
    }
    const loaded = await loadFlow(s, flowId, key, 'recovery');
    if (!loaded.ok) return reply.redirect('/password-reset?m=expired', 303);
    return renderStage(request, reply, loaded.flow, { notice });
  });

  // A picture is ~10 ms of CPU: fetching it is limited like the forms.
  app.get('/password-reset/captcha', { config: flood }, captchaImage(s, 'recovery'));
  app.get('/password-reset/pow', { config: flood }, powChallenge(s, 'recovery'));

  app.post('/password-reset', { preHandler: app.csrfProtection, config: flood }, async (request, reply) => {
    const key = browserKey(request, reply);
    const loaded = await loadFlow(s, queryParam(request, 'flow'), key, 'recovery');
    if (!loaded.ok) return reply.redirect('/password-reset?m=expired', 303);
    let flow = loaded.flow;
    const { t, lang } = request;
    const form = readForm(request, {
      stage: 20,
      action: 20,
      username: 100,
      captcha: 20,
      pow: POW_FIELD_MAX,
      email: 254,
    });
    const f = form.values;
    const action = f.action || 'next';

    // R5: a form of another stage (a second tab, the back button) does not move the flow.
    if (f.stage !== flow.state) return renderStage(request, reply, flow, { status: 409, notice: NOTICES.order });

    if (flow.state === 'identify') {
      if (action === 'refresh') {
        flow = await redrawCaptcha(s, flow, lang, f.username.trim());
        return renderStage(request, reply, flow);
      }
      if (action !== 'next') throw new HttpError('BAD_REQUEST', 'unknown action');
      const usernameError = !f.username.trim()
        ? t('field.usernameRequired')
        : form.tooLong.includes('username')
          ? t('field.tooLong', { max: 100 })
          : undefined;
      const captchaMissing = !f.captcha.trim() && !f.pow.trim();
      if (usernameError || captchaMissing) {
        // A CAPTCHA seen once is not shown again (R6), even when only the username was missing.
        flow = await redrawCaptcha(s, flow, lang, f.username.trim());
        return renderStage(request, reply, flow, {
          status: 400,
          ...(usernameError ? { usernameError } : {}),
          ...(captchaMissing ? { captchaError: t('reset.captchaRequired') } : {}),
          // A solved proof of work is not checked (nor used up) while the username is missing: it comes back with the form.
          ...(f.pow.trim() && !form.tooLong.includes('pow') ? { pow: f.pow.trim() } : {}),
        });
      }
      const result = await submitIdentify(s, flow, lang, f.username, captchaProofOf(f), request.meta);
      if (!result.ok) {
        return renderStage(request, reply, result.flow, {
          status: result.captcha === 'pow_limited' ? 429 : 400,
          captchaError: captchaFailureMessage(t, result.captcha, s.config.callCenterPhone),
        });
      }
      return reply.redirect(`/password-reset?flow=${flow.id}`, 303);
    }

    if (flow.state === 'verify') {
      if (action === 'back') {
        await backToIdentify(s, flow);
        return reply.redirect(`/password-reset?flow=${flow.id}`, 303);
      }
      if (action !== 'next') throw new HttpError('BAD_REQUEST', 'unknown action');
      const email = f.email.trim();
      const emailError = !email
        ? t('reset.emailRequired')
        : form.tooLong.includes('email') || !isResetAddress(email.normalize('NFKC'))
          ? t('reset.emailInvalid')
          : undefined;
      if (emailError) return renderStage(request, reply, flow, { status: 400, email: f.email, emailError });
      // The device cookie goes with the request: the owner's own browser is not held by the per-account ceiling (R3).
      await submitVerify(s, flow, lang, email, {
        ...request.meta,
        deviceCookie: request.cookies[getCookieNames().device],
      });
      return reply.redirect(`/password-reset?flow=${flow.id}`, 303);
    }

    return renderStage(request, reply, flow, { status: 409, notice: NOTICES.order });
  });

  function linkProblem(request: FastifyRequest, reply: FastifyReply, state: Exclude<LinkState, 'valid'>) {
    privatePage(reply);
    const ctx = pageContext(request, reply);
    const key: Record<typeof state, MessageKey> = {
      expired: 'reset.link.expired',
      used: 'reset.link.used',
      cancelled: 'reset.link.cancelled',
      invalid: 'reset.link.invalid',
    };
    return sendPage(
      reply,
      LinkProblemPage({ ctx, message: ctx.t(key[state], { ttl: ttl(request.lang) }) }),
      state === 'invalid' ? 400 : 410,
    );
  }

  function flowExpired(request: FastifyRequest, reply: FastifyReply) {
    privatePage(reply);
    const ctx = pageContext(request, reply);
    return sendPage(reply, LinkProblemPage({ ctx, message: ctx.t('reset.flowExpired') }), 410);
  }

  app.get('/passwordreset.do', { config: { rateLimit: { max: 30, timeWindow: 60_000 } } }, async (request, reply) => {
    privatePage(reply);
    const token = queryParam(request, 'sysparm_tiny');
    const key = browserKey(request, reply);
    if (token !== undefined) {
      await refuseTokenGuesser(s, request.ip);
      const opened = await openResetLink(s, token, key, request.lang, request.meta);
      if (opened.state !== 'valid') {
        if (opened.state === 'invalid') await countTokenGuess(s, request.ip);
        return linkProblem(request, reply, opened.state);
      }
      return reply.redirect(`/passwordreset.do?flow=${opened.flow.id}`, 303);
    }
    const loaded = await loadFlow(s, queryParam(request, 'flow'), key, 'reset');
    if (!loaded.ok)
      return queryParam(request, 'flow') === undefined
        ? linkProblem(request, reply, 'invalid')
        : flowExpired(request, reply);
    const flow = loaded.flow;
    const ctx = pageContext(request, reply);
    if (flow.state === 'done') return sendPage(reply, DonePage({ ctx, flowId: flow.id }));
    const state = await tokenStateOfFlow(s, flow);
    if (state !== 'valid') return linkProblem(request, reply, state);
    return sendPage(
      reply,
      ResetPage({
        ctx,
        v: { flowId: flow.id, username: flow.identifier, ruleKey: s.policy.ruleKey as MessageKey, errors: {} },
      }),
    );
  });

  app.post('/passwordreset.do', { preHandler: app.csrfProtection, config: flood }, async (request, reply) => {
    privatePage(reply);
    const key = browserKey(request, reply);
    const loaded = await loadFlow(s, queryParam(request, 'flow'), key, 'reset');
    if (!loaded.ok) return flowExpired(request, reply);
    const flow = loaded.flow;
    if (flow.state === 'done') return reply.redirect(`/passwordreset.do?flow=${flow.id}`, 303);
    const form = readForm(request, { password: 1000, confirm: 1000, username: 200 });
    const { t } = request;
    const result = form.tooLong.includes('password')
      ? ({ ok: false, kind: 'fields', password: ['policy.tooLong'] } satisfies CompleteResult as CompleteResult)
      : await completeReset(s, flow, form.values.password, form.values.confirm, request.meta);
    if (result.ok) return reply.redirect(`/passwordreset.do?flow=${flow.id}`, 303);
    if (result.kind === 'link') return linkProblem(request, reply, result.state);
    const params = { min: s.policy.min, max: s.policy.max };
    const password =
      result.password === 'required' ? [t('reset.newPasswordRequired')] : result.password.map((k) => t(k, params));
    const confirm =
      result.confirm === 'required'
        ? t('reset.confirmRequired')
        : result.confirm === 'mismatch'
          ? t('reset.mismatch')
          : undefined;
    const ctx = pageContext(request, reply);
    return sendPage(
      reply,
      ResetPage({
        ctx,
        v: {
          flowId: flow.id,
          username: flow.identifier,
          ruleKey: s.policy.ruleKey as MessageKey,
          errors: { ...(password.length ? { password } : {}), ...(confirm ? { confirm } : {}) },
        },
      }),
      400,
    );
  });
}
