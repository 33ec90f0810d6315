/** The page frame: header menu of the seed (事業別トップメニュー▼, お知らせ, よくある質問, ログイン), language switch, footer. */
import type { ComponentChildren } from 'preact';
import type { Lang, Translate } from './i18n/i18n.ts';

export interface PageContext {
  t: Translate;
  lang: Lang;
  /** Path and query of the current page, for the language switch. */
  path: string;
  csrfToken: string;
  user: { displayName: string } | null;
}

export const SERVICES = [
  { slug: 'online-qualification', key: 'service.oqs' },
  { slug: 'e-prescription', key: 'service.eps' },
  { slug: 'ehr-sharing', key: 'service.ehr' },
] as const;

export function Layout({ ctx, title, children }: { ctx: PageContext; title: string; children: ComponentChildren }) {
  const { t, lang } = ctx;
  const other: Lang = lang === 'ja' ? 'en' : 'ja';
  return (
    <html lang={lang}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title === t('site.title') ? title : `${title} | ${t('site.title')}`}</title>
        <link rel="stylesheet" href="/static/portal.css" />
        <script src="/static/portal.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          {t('site.skip')}
        </a>
        <header class="header">
          <div class="header__inner">
            <a class="header__title" href="/csm">
              {t('site.title')}
            </a>
            <nav class="header__nav" aria-label={t('nav.label')}>
              <ul>
                <li>
                  <details class="menu">
                    <summary>{t('nav.services')}</summary>
                    <ul class="menu__list">
                      {SERVICES.map((s) => (
                        <li>
                          <a href={`/csm/services/${s.slug}`}>{t(s.key)}</a>
                        </li>
                      ))}
                    </ul>
                  </details>
                </li>
                <li>
                  <a href="/csm/news">{t('nav.news')}</a>
                </li>
                <li>
                  <a href="/csm/faq">{t('nav.faq')}</a>
                </li>
                {ctx.user ? (
                  <>
                    <li class="header__user">
                      <a href="/account">{t('nav.user', { name: ctx.user.displayName })}</a>
                    </li>
                    <li>
                      <form method="post" action="/logout" class="inline-form">
                        <input type="hidden" name="_csrf" value={ctx.csrfToken} />
                        <button type="submit" class="linklike">
                          {t('nav.logout')}
                        </button>
                      </form>
                    </li>
                  </>
                ) : (
                  <li>
                    <a href="/login" class="header__login">
                      {t('nav.login')}
                    </a>
                  </li>
                )}
                <li>
                  <a
                    href={`/lang?to=${other}&next=${encodeURIComponent(ctx.path)}`}
                    lang={other}
                    hreflang={other}
                    aria-label={t('lang.switchLabel')}
                  >
                    {t('lang.switchTo')}
                  </a>
                </li>
              </ul>
            </nav>
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
        <footer class="footer">
          <p>{t('site.footer')}</p>
        </footer>
      </body>
    </html>
  );
}
