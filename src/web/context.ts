/**
 * What every request carries: its language, the logged-in user (from the server-side session,
 * with idle and absolute timeouts: L4), and the cookies' names and options (L3).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { User } from '../db/schema.ts';
import type { Services } from '../services.ts';
import { deleteSession, findSession, touchSession } from '../accounts/sessions.repository.ts';
import { findUserById } from '../accounts/users.repository.ts';
import { hashToken, randomId } from '../security/tokens.ts';
import { isLang, translator, type Lang, type Translate } from './i18n/i18n.ts';
import type { PageContext } from './layout.tsx';

declare module 'fastify' {
  interface FastifyRequest {
    lang: Lang;
    t: Translate;
    user: User | null;
    sessionHash: string | null;
    meta: { ip: string; userAgent: string };
  }
}

export interface CookieNames {
  session: string;
  csrf: string;
  browser: string;
  lang: string;
  /** The signed device cookie that lets the owner's browser past lockouts caused elsewhere (L2). */
  device: string;
  secure: boolean;
}

/** `__Host-` prefixed and Secure when the portal is served over https (BASE_URL). */
export function cookieNames(baseUrl: string): CookieNames {
  const secure = baseUrl.startsWith('https://');
  const p = secure ? '__Host-' : '';
  return { session: `${p}sid`, csrf: `${p}csrf`, browser: `${p}bk`, lang: 'lang', device: `${p}dev`, secure };
}

export function baseCookie(names: CookieNames): CookieSerializeOptions {
  return { path: '/', httpOnly: true, sameSite: 'lax', secure: names.secure };
}

let names: CookieNames;

export function installRequestContext(app: FastifyInstance, s: Services): void {
  names = cookieNames(s.config.baseUrl);
  app.decorateRequest('lang', 'ja');
  app.decorateRequest('t', null as unknown as Translate);
  app.decorateRequest('user', null);
  app.decorateRequest('sessionHash', null);
  app.decorateRequest('meta', null as unknown as FastifyRequest['meta']);

  app.addHook('onRequest', async (request, reply) => {
    const cookieLang = request.cookies[names.lang];
    request.lang = isLang(cookieLang) ? cookieLang : 'ja';
    request.t = translator(request.lang);
    request.meta = { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 300) };
    if (request.url.startsWith('/static/')) return;

    const sid = request.cookies[names.session];
    if (!sid || sid.length > 100) return;
    const idHash = hashToken(sid);
    const session = await findSession(s.db, idHash);
    const now = s.now();
    const idleMs = s.config.sessionIdleMinutes * 60_000;
    if (!session || session.expires_at <= now || session.last_seen_at + idleMs <= now) {
      if (session) await deleteSession(s.db, idHash);
      reply.clearCookie(names.session, baseCookie(names));
      return;
    }
    const user = await findUserById(s.db, session.user_id);
    if (!user || !keepsSession(user)) {
      // A closed or operator-locked account is logged out at its next request, whatever ended it (V2).
      await deleteSession(s.db, idHash);
      reply.clearCookie(names.session, baseCookie(names));
      return;
    }
    request.user = user;
    request.sessionHash = idHash;
    // Writing on every request would make every page a database write; a minute of slack is enough.
    if (now - session.last_seen_at > 60_000) await touchSession(s.db, idHash, now);
  });
}

/**
 * Whether a session of this account may go on (V2): active accounts, provisional ones (restricted to registering a
 * real address by the account routes) and temporary lockouts from failed logins — those are for guessers at the
 * login form, and must not let them log the owner out. Closed accounts, operator locks and any other status end it.
 */
export function keepsSession(user: User): boolean {
  if (user.status === 'active' || user.status === 'provisional') return true;
  return user.status === 'locked' && user.locked_until !== null;
}

export function getCookieNames(): CookieNames {
  return names;
}

/** The random key that binds reset flows to this browser; set when first needed. */
export function browserKey(request: FastifyRequest, reply: FastifyReply): string {
  const existing = request.cookies[names.browser];
  if (existing && /^[A-Za-z0-9_-]{20,64}$/.test(existing)) return existing;
  const key = randomId(24);
  reply.setCookie(names.browser, key, baseCookie(names));
  request.cookies[names.browser] = key;
  return key;
}

export function pageContext(request: FastifyRequest, reply: FastifyReply): PageContext {
  const t = request.t ?? translator('ja');
  let csrfToken: string | undefined;
  return {
    t,
    lang: request.lang ?? 'ja',
    path:
      request.url.length > 300
        ? '/csm'
        : request.url.includes('sysparm_tiny')
          ? request.url.split('?')[0]!
          : request.url,
    // Made on first use (while the page renders, before it is sent): a page without a form sets no CSRF cookie
    // and spends nothing on it, which is most of the cost of an anonymous top page.
    get csrfToken() {
      if (csrfToken === undefined) {
        try {
          csrfToken = reply.generateCsrf();
        } catch {
          csrfToken = ''; // rendered before the cookie plugin ran (a framework error): no form to protect
        }
      }
      return csrfToken;
    },
    user: request.user ? { displayName: request.user.display_name } : null,
  };
}
