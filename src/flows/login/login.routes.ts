/**
 * GET/POST /login and POST /logout.
 *   GET /login?m=loginRequired&next=/account   from a protected page: the login returns there (a safe local path only)
 *   GET /login?m=afterReset&flow=…             完了 after a reset: the username comes from that done reset flow of this
 *                                              browser, so it never stands in a URL
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { baseCookie, getCookieNames, pageContext } from '../../web/context.ts';
import { safeNextPath } from '../../web/next-path.ts';
import { readForm, queryParam } from '../../web/forms.ts';
import type { MessageKey } from '../../web/i18n/i18n.ts';
import { sendPage } from '../../web/render.ts';
import { DEVICE_COOKIE_DAYS } from '../../accounts/device-cookie.ts';
import { loadFlow } from '../recovery/recovery.flow.ts';
import { ruleShownFrom } from './failure-streak.ts';
import { logIn, logOut } from './login.flow.ts';
import { LoginPage } from './login.views.tsx';

const NOTICES: Record<string, MessageKey> = {
  loggedOut: 'login.loggedOut',
  afterReset: 'login.afterReset',
  expired: 'login.sessionExpired',
  loginRequired: 'account.loginRequired',
};

export async function loginRoutes(app: FastifyInstance, s: Services): Promise<void> {
  /** The username a finished reset of this browser carries to the login page (W4), or ''. */
  async function usernameAfterReset(flowId: string | undefined, browser: string | undefined): Promise<string> {
    if (flowId === undefined) return '';
    const loaded = await loadFlow(s, flowId, browser, 'reset');
    return loaded.ok && loaded.flow.state === 'done' ? loaded.flow.identifier : '';
  }

  app.get('/login', async (request, reply) => {
    const next = safeNextPath(queryParam(request, 'next'));
    if (request.user) return reply.redirect(next ?? '/csm', 303);
    reply.header('cache-control', 'no-store');
    const m = queryParam(request, 'm');
    const username =
      m === 'afterReset'
        ? await usernameAfterReset(queryParam(request, 'flow'), request.cookies[getCookieNames().browser])
        : '';
    const ctx = pageContext(request, reply);
    return sendPage(reply, LoginPage({ ctx, v: { username, next, notice: m ? NOTICES[m] : undefined, errors: {} } }));
  });

  app.post(
    '/login',
    {
      preHandler: app.csrfProtection,
      config: { rateLimit: { max: s.config.floodLimitPerMinute, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { t } = request;
      const form = readForm(request, { username: 100, password: 1000, next: 1000 });
      const { username, password } = form.values;
      const next = form.tooLong.includes('next') ? undefined : safeNextPath(form.values.next);
      const errors: { username?: string; password?: string } = {};
      if (!username.trim()) errors.username = t('field.usernameRequired');
      else if (form.tooLong.includes('username')) errors.username = t('field.tooLong', { max: 100 });
      if (!password) errors.password = t('field.passwordRequired');
      else if (form.tooLong.includes('password')) errors.password = t('field.tooLong', { max: 1000 });
      if (errors.username || errors.password) {
        return sendPage(reply, LoginPage({ ctx: pageContext(request, reply), v: { username, next, errors } }), 400);
      }
      const names = getCookieNames();
      const result = await logIn(s, username, password, request.sessionHash, {
        ...request.meta,
        deviceCookie: request.cookies[names.device],
      });
      if (!result.ok) {
        const failure = result.reason === 'throttled' ? t('login.throttled') : t('login.failed');
        // From the third failure in a row the rule is spelled out: the lock, its length, and how to lift it at once.
        const lockRule =
          result.reason === 'invalid' && result.streak >= ruleShownFrom(s.config.lockoutThreshold)
            ? { threshold: s.config.lockoutThreshold, minutes: s.config.lockoutMinutes }
            : undefined;
        return sendPage(
          reply,
          LoginPage({ ctx: pageContext(request, reply), v: { username, next, failure, lockRule, errors: {} } }),
          result.reason === 'throttled' ? 429 : 401,
        );
      }
      reply.setCookie(names.session, result.sessionId, {
        ...baseCookie(names),
        maxAge: s.config.sessionAbsoluteHours * 3600,
      });
      reply.setCookie(names.device, result.deviceCookie, {
        ...baseCookie(names),
        maxAge: DEVICE_COOKIE_DAYS * 24 * 3600,
      });
      return reply.redirect(next ?? '/csm', 303);
    },
  );

  app.post('/logout', { preHandler: app.csrfProtection }, async (request, reply) => {
    if (request.user && request.sessionHash) await logOut(s, request.sessionHash, request.user.id, request.meta);
    const names = getCookieNames();
    reply.clearCookie(names.session, baseCookie(names));
    return reply.redirect('/login?m=loggedOut', 303);
  });
}
