/** The top page (tiles of the seed) and the content pages, from the database. */
import type { ComponentChildren } from 'preact';
import type { Faq, News } from '../db/schema.ts';
import { Field } from '../web/components.tsx';
import { Layout, SERVICES, type PageContext } from '../web/layout.tsx';
import type { MessageKey } from '../web/i18n/i18n.ts';
import { Markdown } from './markdown.tsx';
import { japanDate } from '../web/japan-time.ts';

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

/**
 * A notice in the page's language. A notice published in Japanese only (issue 11 §6) shows its Japanese text on the
 * English pages, marked `lang="ja"` so that a screen reader switches voice (WCAG 3.1.2), with a note in English.
 */
export function newsIn(
  n: News,
  lang: PageContext['lang'],
): { title: string; body: string; lang: 'ja' | 'en'; japaneseOnly: boolean } {
  if (lang === 'en' && n.title_en.trim())
    return { title: n.title_en, body: n.body_en, lang: 'en', japaneseOnly: false };
  return { title: n.title_ja, body: n.body_ja, lang: 'ja', japaneseOnly: lang === 'en' };
}

export function NewsLine({ ctx, n }: { ctx: PageContext; n: News }) {
  const shown = newsIn(n, ctx.lang);
  return (
    <li>
      <time dateTime={japanDate(n.publish_at)}>{japanDate(n.publish_at)}</time>{' '}
      {n.importance === 'important' ? (
        <span class="badge badge--important">{ctx.t('content.news.important')}</span>
      ) : null}{' '}
      <a href={`/csm/news/${n.id}`} lang={shown.japaneseOnly ? 'ja' : undefined}>
        {shown.title}
      </a>
      {shown.japaneseOnly ? (
        <>
          {' '}
          <span class="muted">{ctx.t('content.news.japaneseOnlyMark')}</span>
        </>
      ) : null}
    </li>
  );
}

export function TopPage({ ctx, news }: { ctx: PageContext; news: News[] }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('site.title')}>
      <div class="container">
        <h1 class="visually-hidden">{t('top.heading')}</h1>
        {ctx.user ? (
          <div class="alert alert--success" role="status">
            <p>{t('top.welcome', { name: ctx.user.displayName })}</p>
          </div>
        ) : null}
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
          {SERVICES.map((s) => (
            <Tile href={`/csm/services/${s.slug}`} title={t(s.key)} kind="service" />
          ))}
        </ul>
        <section class="news" aria-labelledby="latest-news">
          <h2 id="latest-news">{t('top.latestNews')}</h2>
          {news.length ? (
            <ul>
              {news.map((n) => (
                <NewsLine ctx={ctx} n={n} />
              ))}
            </ul>
          ) : (
            <p>{t('content.news.empty')}</p>
          )}
          <p>
            <a href="/csm/news">{t('content.news.more')}</a>
          </p>
        </section>
      </div>
    </Layout>
  );
}

export function ContentPage({
  ctx,
  title,
  titleLang,
  children,
}: {
  ctx: PageContext;
  title: string;
  titleLang?: string | undefined;
  children: ComponentChildren;
}) {
  return (
    <Layout ctx={ctx} title={title}>
      <div class="container container--narrow">
        <h1 lang={titleLang}>{title}</h1>
        {children}
        <p>
          <a href="/csm">{ctx.t('content.backToTop')}</a>
        </p>
      </div>
    </Layout>
  );
}

export function NewsList({ ctx, news }: { ctx: PageContext; news: News[] }) {
  if (news.length === 0) return <p>{ctx.t('content.news.empty')}</p>;
  return (
    <ul class="article-list">
      {news.map((n) => (
        <NewsLine ctx={ctx} n={n} />
      ))}
    </ul>
  );
}

export function NewsArticle({ ctx, n }: { ctx: PageContext; n: News }) {
  const shown = newsIn(n, ctx.lang);
  return (
    <article>
      {shown.japaneseOnly ? <p class="alert alert--info">{ctx.t('content.news.japaneseOnly')}</p> : null}
      <p class="muted">
        <time dateTime={japanDate(n.publish_at)}>{japanDate(n.publish_at)}</time> ・{' '}
        {ctx.t(`content.news.category.${n.category}` as MessageKey)}
        {n.importance === 'important' ? (
          <>
            {' '}
            ・ <span class="badge badge--important">{ctx.t('content.news.important')}</span>
          </>
        ) : null}
      </p>
      <div lang={shown.japaneseOnly ? 'ja' : undefined}>
        <Markdown source={shown.body} />
      </div>
    </article>
  );
}

export function FaqSearch({ ctx, q, items }: { ctx: PageContext; q: string; items: Faq[] }) {
  const { t, lang } = ctx;
  return (
    <>
      <form method="get" action="/csm/faq" role="search" class="search">
        <Field
          t={t}
          id="q"
          name="q"
          label={t('content.faq.search')}
          help={t('content.faq.searchHelp')}
          value={q}
          maxLength={200}
        />
        <div class="actions">
          <button type="submit" class="button button--primary">
            {t('content.faq.searchSubmit')}
          </button>
          {q ? <a href="/csm/faq">{t('content.faq.clear')}</a> : null}
        </div>
      </form>
      {q ? (
        <p role="status">
          {items.length ? t('content.faq.results', { q, n: items.length }) : t('content.faq.noResults', { q })}
        </p>
      ) : null}
      <dl class="faq">
        {items.map((f) => (
          <>
            <dt>Q. {lang === 'en' ? f.question_en : f.question_ja}</dt>
            <dd>
              <Markdown source={lang === 'en' ? f.answer_en : f.answer_ja} />
            </dd>
          </>
        ))}
      </dl>
    </>
  );
}
