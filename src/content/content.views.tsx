/** The top page (tiles of the seed) and the short content pages. */
import type { ComponentChildren } from 'preact';
import { Layout, SERVICES, type PageContext } from '../web/layout.tsx';
import { FAQ, NEWS } from './demo-content.ts';

function Tile({ href, title, sub, kind }: { href: string; title: string; sub?: string; kind?: string }) {
  return (
    <li class={`tile${kind ? ` tile--${kind}` : ''}`}>
      <a href={href}>
        <span class="tile__title">{title}</span>
        {sub ? <span class="tile__sub">{sub}</span> : null}
      </a>
    </li>
  );
}

export function TopPage({ ctx }: { ctx: PageContext }) {
  const { t, lang } = ctx;
  return (
    <Layout ctx={ctx} title={t('site.title')}>
      <div class="container">
        <h1 class="visually-hidden">{t('top.heading')}</h1>
        {ctx.user ? <div class="alert alert--success" role="status"><p>{t('top.welcome', { name: ctx.user.displayName })}</p></div> : null}
        <ul class="tiles tiles--main">
          <Tile href="/register" title={t('top.register')} sub={t('top.registerSub')} kind="primary" />
          <Tile href="/login" title={t('top.login')} sub={t('top.loginSub')} kind="primary" />
          <Tile href="/csm/institution-changes" title={t('top.changes')} />
          <Tile href="/csm/news" title={t('top.news')} />
          <Tile href="/csm/faq" title={t('top.faq')} />
          <Tile href="/csm/contact" title={t('top.contact')} />
        </ul>
        <h2 class="visually-hidden">{t('top.servicesHeading')}</h2>
        <ul class="tiles tiles--services">
          {SERVICES.map((s) => <Tile href={`/csm/services/${s.slug}`} title={t(s.key)} kind="service" />)}
        </ul>
        <section class="news" aria-labelledby="latest-news">
          <h2 id="latest-news">{t('top.latestNews')}</h2>
          <ul>
            {NEWS.slice(0, 3).map((n) => (
              <li><time dateTime={n.date}>{n.date}</time> <a href="/csm/news">{n.title[lang]}</a></li>
            ))}
          </ul>
        </section>
      </div>
    </Layout>
  );
}

export function ContentPage({ ctx, title, children }: { ctx: PageContext; title: string; children: ComponentChildren }) {
  return (
    <Layout ctx={ctx} title={title}>
      <div class="container container--narrow">
        <h1>{title}</h1>
        {children}
        <p><a href="/csm">{ctx.t('content.backToTop')}</a></p>
      </div>
    </Layout>
  );
}

export function NewsList({ ctx }: { ctx: PageContext }) {
  if (NEWS.length === 0) return <p>{ctx.t('content.news.empty')}</p>;
  return (
    <ul class="article-list">
      {NEWS.map((n) => (
        <li>
          <h2><time dateTime={n.date}>{n.date}</time> {n.title[ctx.lang]}</h2>
          <p>{n.body[ctx.lang]}</p>
        </li>
      ))}
    </ul>
  );
}

export function FaqList({ ctx }: { ctx: PageContext }) {
  return (
    <dl class="faq">
      {FAQ.map((f) => (
        <>
          <dt>Q. {f.q[ctx.lang]}</dt>
          <dd>A. {f.a[ctx.lang]}</dd>
        </>
      ))}
    </dl>
  );
}
