/**
 * The operators' console under /admin: an encapsulated Fastify plugin. Its hooks (operator session with a
 * shorter idle timeout, role checks) never reach the public routes, and portal users' sessions mean nothing here.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Operator } from '../db/schema.ts';
import type { Services } from '../services.ts';
import { DEVICE_COOKIE_DAYS } from '../accounts/device-cookie.ts';
import { hashToken } from '../security/tokens.ts';
import { baseCookie, getCookieNames } from '../web/context.ts';
import { Csrf, ErrorSummary, Field, Notice, summaryItems } from '../web/components.tsx';
import { readForm, queryParam } from '../web/forms.ts';
import { sendPage } from '../web/render.ts';
import { codeOf, ERRORS, type ErrorCode } from '../web/errors.ts';
import { AdminLayout, MENU, menuLabel, type AdminContext, type Role } from './admin-layout.tsx';
import {
  deleteOperatorSession,
  findOperatorById,
  findOperatorSession,
  touchOperatorSession,
} from './operators.repository.ts';
import { logInOperator } from './operator-login.ts';
import { supportRoutes } from './support.routes.tsx';
import { menuCounts, registrationCaseRoutes } from './registration-cases.routes.tsx';
import { mailRoutes } from './mail.routes.tsx';
import { auditRoutes } from './audit.routes.tsx';
import { contentAdminRoutes } from './content-admin.routes.tsx';

declare module 'fastify' {
  interface FastifyRequest {
    operator: Operator | null;
    operatorSessionHash: string | null;
    /** A console session came with the request but had run out (idle or absolute timeout). */
    operatorExpired: boolean;
    /** Counts for the menu (registration-cases.routes.tsx), read once per console request. */
    adminCounts: AdminContext['counts'] | null;
  }
}

export function adminCookieName(): string {
  return getCookieNames().secure ? '__Host-asid' : 'asid';
}

export function adminContext(request: FastifyRequest, reply: FastifyReply): AdminContext {
  return {
    t: request.t,
    lang: request.lang,
    csrfToken: reply.generateCsrf(),
    operator: request.operator,
    counts: request.adminCounts ?? undefined,
  };
}

/** Refuses (403 page) unless the operator has one of the roles; sends to the login page when nobody is logged in. */
export function requireRole(...roles: Role[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.operator)
      return reply.redirect(request.operatorExpired ? '/admin/login?m=expired' : '/admin/login', 303);
    if (!roles.includes(request.operator.role)) {
      await request.server.services.audit({
        event: 'admin.forbidden',
        outcome: 'refused',
        actor: `operator:${request.operator.username}`,
        ip: request.ip,
        userAgent: request.meta.userAgent,
        detail: { url: request.url.split('?')[0] },
      });
      const ctx = adminContext(request, reply);
      return sendPage(
        reply.header('cache-control', 'no-store'),
        AdminLayout({
          ctx,
          title: ctx.t('error.title'),
          children: (
            <Notice kind="error">
              <p>{ctx.t('admin.forbidden')}</p>
            </Notice>
          ),
        }),
        403,
      );
    }
  };
}

export async function adminPlugin(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const s = opts.services;
  const idleMs = s.config.adminIdleMinutes * 60_000;
  app.decorateRequest('operator', null);
  app.decorateRequest('operatorSessionHash', null);
  app.decorateRequest('operatorExpired', false);
  app.decorateRequest('adminCounts', null);

  // Errors under /admin are shown in the console's own layout (menu, operator, logout), not the public one.
  function consoleError(request: FastifyRequest, reply: FastifyReply, code: ErrorCode) {
    const { status, key } = ERRORS[code];
    const ctx = adminContext(request, reply);
    return sendPage(
      reply.header('cache-control', 'no-store'),
      AdminLayout({
        ctx,
        title: ctx.t('error.title'),
        children: (
          <>
            <Notice kind="error">
              <p>{ctx.t(key, { requestId: request.id })}</p>
            </Notice>
            <p>
              <a href="/admin">{ctx.t('admin.toConsoleTop')}</a>
            </p>
          </>
        ),
      }),
      status,
    );
  }
  app.setNotFoundHandler((request, reply) => consoleError(request, reply, 'NOT_FOUND'));
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const code = codeOf(err);
    if (code === 'INTERNAL') request.log.error({ err, reqId: request.id }, 'unhandled error');
    else request.log.info({ code, reason: err.code ?? err.message }, 'request refused');
    return consoleError(request, reply, code);
  });

  // ADMIN_ALLOW_CIDRS (S12): from any other address, every /admin request is a 403 page without a login form. The
  // address is the client's as Fastify determines it (X-Forwarded-For only from a TRUST_PROXY hop).
  const allow = s.config.adminAllowCidrs;
  if (allow) {
    app.addHook('onRequest', async (request, reply) => {
      if (allow.contains(request.ip)) return;
      // info, not warn: anyone outside can send these, and each would otherwise raise an alert.
      request.log.info(
        { ip: request.ip, url: request.url.split('?')[0] },
        'console request from outside ADMIN_ALLOW_CIDRS refused',
      );
      const ctx = { t: request.t, lang: request.lang, csrfToken: '', operator: null };
      sendPage(
        reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex'),
        AdminLayout({
          ctx,
          title: ctx.t('error.title'),
          children: (
            <Notice kind="error">
              <p>{ctx.t(ERRORS.ADMIN_ADDRESS.key)}</p>
            </Notice>
          ),
        }),
        ERRORS.ADMIN_ADDRESS.status,
      );
      return reply;
    });
  }

  app.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-robots-tag', 'noindex');
    const sid = request.cookies[adminCookieName()];
    if (!sid || sid.length > 100) return;
    const idHash = hashToken(sid);
    const session = await findOperatorSession(s.db, idHash);
    const now = s.now();
    if (!session || session.expires_at <= now || session.last_seen_at + idleMs <= now) {
      if (session) {
        await deleteOperatorSession(s.db, idHash);
        request.operatorExpired = true;
      }
      reply.clearCookie(adminCookieName(), baseCookie(getCookieNames()));
      return;
    }
    const operator = await findOperatorById(s.db, session.operator_id);
    if (!operator || operator.status !== 'active') return;
    request.operator = operator;
    request.operatorSessionHash = idHash;
    request.adminCounts = await menuCounts(s, operator);
    if (now - session.last_seen_at > 30_000) await touchOperatorSession(s.db, idHash, now);
  });

  function loginPage(
    request: FastifyRequest,
    reply: FastifyReply,
    username: string,
    failure?: string,
    notice?: string,
    status = 200,
    errors: { username?: string; password?: string } = {},
  ) {
    const ctx = adminContext(request, reply);
    const t = ctx.t;
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.login.title'),
        children: (
          <div class="container--narrow">
            <p>{t('admin.login.lead')}</p>
            {notice ? (
              <Notice kind="info">
                <p>{notice}</p>
              </Notice>
            ) : null}
            {failure ? (
              <Notice kind="error">
                <p>{failure}</p>
              </Notice>
            ) : null}
            <form method="post" action="/admin/login" novalidate>
              <Csrf token={ctx.csrfToken} />
              <ErrorSummary t={t} show={Boolean(errors.username || errors.password)} items={summaryItems(errors)} />
              <Field
                t={t}
                id="username"
                name="username"
                label={t('admin.login.username')}
                required
                value={username}
                autocomplete="username"
                maxLength={64}
                error={errors.username}
              />
              <Field
                t={t}
                id="password"
                name="password"
                type="password"
                label={t('admin.login.password')}
                required
                autocomplete="current-password"
                maxLength={1000}
                passwordToggle
                error={errors.password}
              />
              <div class="actions">
                <button type="submit" class="button button--primary">
                  {t('admin.login.submit')}
                </button>
              </div>
            </form>
          </div>
        ),
      }),
      status,
    );
  }

  app.get('/login', async (request, reply) => {
    if (request.operator) return reply.redirect('/admin', 303);
    const m = queryParam(request, 'm');
    const notice =
      m === 'loggedOut'
        ? request.t('admin.login.loggedOut')
        : m === 'expired'
          ? request.t('admin.login.expired')
          : undefined;
    return loginPage(request, reply, '', undefined, notice);
  });

  app.post(
    '/login',
    { preHandler: app.csrfProtection, config: { rateLimit: { max: 30, timeWindow: 60_000 } } },
    async (request, reply) => {
      const { values } = readForm(request, { username: 64, password: 1000 });
      // An empty field is a mistake in the form, not a login attempt: named under its field, nothing counted (W1).
      const { t } = request;
      const errors: { username?: string; password?: string } = {};
      if (!values.username.trim()) errors.username = t('admin.content.required', { label: t('admin.login.username') });
      if (!values.password) errors.password = t('admin.content.required', { label: t('admin.login.password') });
      if (errors.username || errors.password)
        return loginPage(request, reply, values.username, undefined, undefined, 400, errors);
      const names = getCookieNames();
      const result = await logInOperator(s, values.username, values.password, {
        ip: request.ip,
        userAgent: request.meta.userAgent,
        deviceCookie: request.cookies[names.device],
        previousSessionHash: request.operatorSessionHash,
      });
      if (!result.ok)
        return loginPage(request, reply, values.username, request.t('admin.login.failed'), undefined, 401);
      reply.setCookie(adminCookieName(), result.sessionId, {
        ...baseCookie(names),
        maxAge: s.config.sessionAbsoluteHours * 3600,
      });
      reply.setCookie(names.device, result.deviceCookie, {
        ...baseCookie(names),
        maxAge: DEVICE_COOKIE_DAYS * 24 * 3600,
      });
      return reply.redirect('/admin', 303);
    },
  );

  app.post('/logout', { preHandler: app.csrfProtection }, async (request, reply) => {
    if (request.operator && request.operatorSessionHash) {
      await deleteOperatorSession(s.db, request.operatorSessionHash);
      await s.audit({
        event: 'admin.logout',
        outcome: 'ok',
        actor: `operator:${request.operator.username}`,
        ip: request.ip,
        userAgent: request.meta.userAgent,
      });
    }
    reply.clearCookie(adminCookieName(), baseCookie(getCookieNames()));
    return reply.redirect('/admin/login?m=loggedOut', 303);
  });

  app.get('/', { preHandler: requireRole('admin', 'support', 'editor') }, async (request, reply) => {
    const ctx = adminContext(request, reply);
    const items = MENU.filter((m) => m.roles.includes(request.operator!.role));
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: ctx.t('admin.title'),
        children: (
          <>
            <p>{ctx.t('admin.home.lead')}</p>
            <ul class="tiles">
              {items.map((m) => (
                <li class="tile">
                  <a href={m.href}>
                    <span class="tile__title">{menuLabel(ctx, m)}</span>
                  </a>
                </li>
              ))}
            </ul>
          </>
        ),
      }),
    );
  });

  await supportRoutes(app, s);
  await registrationCaseRoutes(app, s);
  await mailRoutes(app, s);
  await auditRoutes(app, s);
  await contentAdminRoutes(app, s);
}
