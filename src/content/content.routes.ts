/** The top page and the portal's content pages; every tile and menu item leads to a real page. */
import type { FastifyInstance } from 'fastify';
import { h } from 'preact';
import type { Services } from '../services.ts';
import { contactBlock } from '../mail/templates/contact-block.ts';
import { baseCookie, getCookieNames, pageContext } from '../web/context.ts';
import { HttpError } from '../web/errors.ts';
import { queryParam } from '../web/forms.ts';
import { isLang } from '../web/i18n/i18n.ts';
import { SERVICES } from '../web/layout.tsx';
import { sendPage } from '../web/render.ts';
import { ContentPage, FaqList, NewsList, TopPage } from './content.views.tsx';

export async function contentRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.get('/', async (_request, reply) => reply.redirect('/csm', 302));

  app.get('/csm', async (request, reply) => {
    if (request.user) reply.header('cache-control', 'no-store');
    return sendPage(reply, TopPage({ ctx: pageContext(request, reply) }));
  });

  app.get('/csm/news', async (request, reply) => {
    const ctx = pageContext(request, reply);
    return sendPage(reply, ContentPage({ ctx, title: ctx.t('content.news.title'), children: h(NewsList, { ctx }) }));
  });

  app.get('/csm/faq', async (request, reply) => {
    const ctx = pageContext(request, reply);
    return sendPage(reply, ContentPage({ ctx, title: ctx.t('content.faq.title'), children: h(FaqList, { ctx }) }));
  });

  app.get('/csm/contact', async (request, reply) => {
    const ctx = pageContext(request, reply);
    const lines = contactBlock(ctx.lang, s.branding).split('\n');
    return sendPage(reply, ContentPage({ ctx, title: ctx.t('content.contact.title'), children: h('address', { class: 'contact' }, lines.map((l) => h('p', null, l))) }));
  });

  app.get('/csm/institution-changes', async (request, reply) => {
    const ctx = pageContext(request, reply);
    return sendPage(reply, ContentPage({ ctx, title: ctx.t('content.changes.title'), children: h('p', null, ctx.t('content.changes.body')) }));
  });

  app.get<{ Params: { slug: string } }>('/csm/services/:slug', async (request, reply) => {
    const service = SERVICES.find((x) => x.slug === request.params.slug);
    if (!service) throw new HttpError('NOT_FOUND');
    const ctx = pageContext(request, reply);
    const body = { 'service.oqs': 'content.service.oqs', 'service.eps': 'content.service.eps', 'service.ehr': 'content.service.ehr' } as const;
    return sendPage(reply, ContentPage({ ctx, title: ctx.t(service.key), children: h('p', null, ctx.t(body[service.key])) }));
  });

  /** The language switch: remembers the choice and goes back to the page (only paths of this site). */
  app.get('/lang', async (request, reply) => {
    const to = queryParam(request, 'to');
    const next = queryParam(request, 'next') ?? '/csm';
    if (!isLang(to)) throw new HttpError('BAD_REQUEST');
    const safeNext = /^\/(?![/\\])[^\s]*$/.test(next) && !next.includes('sysparm_tiny') ? next : '/csm';
    reply.setCookie(getCookieNames().lang, to, { ...baseCookie(getCookieNames()), maxAge: 365 * 24 * 3600 });
    return reply.redirect(safeNext, 303);
  });
}
