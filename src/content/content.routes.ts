/** The top page and the portal's content pages (from the database); every tile and menu item leads to a real page. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { h } from 'preact';
import type { Services } from '../services.ts';
import { baseCookie, getCookieNames, pageContext } from '../web/context.ts';
import { HttpError } from '../web/errors.ts';
import { queryParam } from '../web/forms.ts';
import { isLang } from '../web/i18n/i18n.ts';
import { SERVICES } from '../web/layout.tsx';
import { pageHtml, sendPage } from '../web/render.ts';
import { findNews, findPage, listPublishedNews, nextNewsChange, listPublishedFaq } from './content.repository.ts';
import { ContentPage, FaqSearch, NewsArticle, NewsList, newsIn, TopPage } from './content.views.tsx';
import { Markdown } from './markdown.tsx';
import { queryWords, rankFaq } from './faq-search.ts';

export async function contentRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.get('/', async (_request, reply) => reply.redirect('/csm', 302));

  app.get('/csm', async (request, reply) => {
    if (request.user) {
      reply.header('cache-control', 'no-store');
      const news = await listPublishedNews(s.db, s.now(), 5);
      return sendPage(reply, TopPage({ ctx: pageContext(request, reply), news }));
    }
    // A first-time visitor's top page is the same for everyone of a language: rendered once (top-page-cache.ts).
    const now = s.now();
    const shared = request.url === '/csm';
    const cached = shared ? s.topPage.get(request.lang, now) : undefined;
    if (cached !== undefined) return reply.code(200).type('text/html; charset=utf-8').send(cached);
    const generation = s.topPage.generation();
    const [news, nextChange] = await Promise.all([
      listPublishedNews(s.db, now, 5),
      shared ? nextNewsChange(s.db, now) : null,
    ]);
    const html = pageHtml(TopPage({ ctx: pageContext(request, reply), news }));
    if (shared && !reply.hasHeader('set-cookie')) s.topPage.set(request.lang, html, now, nextChange, generation);
    return reply.code(200).type('text/html; charset=utf-8').send(html);
  });

  app.get('/csm/news', async (request, reply) => {
    const ctx = pageContext(request, reply);
    const news = await listPublishedNews(s.db, s.now(), 200);
    return sendPage(
      reply,
      ContentPage({ ctx, title: ctx.t('content.news.title'), children: h(NewsList, { ctx, news }) }),
    );
  });

  app.get<{ Params: { id: string } }>('/csm/news/:id', async (request, reply) => {
    const n = /^[A-Za-z0-9_-]{1,64}$/.test(request.params.id) ? await findNews(s.db, request.params.id) : undefined;
    const now = s.now();
    if (!n || n.status !== 'published' || n.publish_at > now || (n.end_at !== null && n.end_at <= now))
      throw new HttpError('NOT_FOUND');
    const ctx = pageContext(request, reply);
    const shown = newsIn(n, ctx.lang);
    return sendPage(
      reply,
      ContentPage({
        ctx,
        title: shown.title,
        titleLang: shown.japaneseOnly ? 'ja' : undefined,
        children: h(NewsArticle, { ctx, n }),
      }),
    );
  });

  app.get('/csm/faq', async (request, reply) => {
    const q = (queryParam(request, 'q') ?? '').slice(0, 200);
    const items = rankFaq(await listPublishedFaq(s.db), queryWords(q));
    const ctx = pageContext(request, reply);
    return sendPage(
      reply,
      ContentPage({ ctx, title: ctx.t('content.faq.title'), children: h(FaqSearch, { ctx, q: q.trim(), items }) }),
    );
  });

  async function page(request: FastifyRequest, reply: FastifyReply, slug: string) {
    const p = await findPage(s.db, slug);
    if (!p) throw new HttpError('NOT_FOUND');
    const ctx = pageContext(request, reply);
    const en = ctx.lang === 'en';
    return sendPage(
      reply,
      ContentPage({
        ctx,
        title: en ? p.title_en : p.title_ja,
        children: h(Markdown, { source: en ? p.body_en : p.body_ja }),
      }),
    );
  }

  app.get('/csm/contact', (request, reply) => page(request, reply, 'contact'));
  app.get('/csm/institution-changes', (request, reply) => page(request, reply, 'institution-changes'));
  app.get<{ Params: { slug: string } }>('/csm/services/:slug', async (request, reply) => {
    const service = SERVICES.find((x) => x.slug === request.params.slug);
    if (!service) throw new HttpError('NOT_FOUND');
    return page(request, reply, `service-${service.slug}`);
  });

  /** The language switch: remembers the choice and goes back to the page (only paths of this site). */
  app.get('/lang', async (request, reply) => {
    const to = queryParam(request, 'to');
    const next = queryParam(request, 'next') ?? '/csm';
    if (!isLang(to)) throw new HttpError('BAD_REQUEST');
    // Only a path of this site, in printable ASCII (the layout's links are percent-encoded already): anything
    // else, a control or non-Latin-1 character included, goes to the top page instead of into Location (S9).
    const safeNext = /^\/(?![/\\])[\x21-\x7E]*$/.test(next) && !next.includes('sysparm_tiny') ? next : '/csm';
    reply.setCookie(getCookieNames().lang, to, { ...baseCookie(getCookieNames()), maxAge: 365 * 24 * 3600 });
    return reply.redirect(safeNext, 303);
  });
}
