/** The console's frame: its own header and a menu that shows only what the operator's role may use. */
import type { ComponentChildren } from 'preact';
import type { Operator } from '../db/schema.ts';
import type { Lang, MessageKey, Translate } from '../web/i18n/i18n.ts';
import { japanDateTime } from '../web/japan-time.ts';

export interface AdminContext {
  t: Translate;
  lang: Lang;
  csrfToken: string;
  operator: Operator | null;
  /** Counts shown beside menu entries (e.g. pending registrations), filled when the operator's role sees them. */
  counts?: Partial<Record<MenuCount, number>> | undefined;
}

export type MenuCount = 'pendingCases';

export type Role = Operator['role'];

export const MENU: Array<{ href: string; key: MessageKey; roles: Role[]; count?: MenuCount }> = [
  { href: '/admin/users', key: 'admin.nav.users', roles: ['admin', 'support'] },
  { href: '/admin/registration-cases', key: 'admin.nav.cases', roles: ['admin', 'support'], count: 'pendingCases' },
  { href: '/admin/mail', key: 'admin.nav.mail', roles: ['admin', 'support'] },
  { href: '/admin/audit', key: 'admin.nav.audit', roles: ['admin', 'support'] },
  { href: '/admin/news', key: 'admin.nav.news', roles: ['admin', 'editor'] },
  { href: '/admin/faq', key: 'admin.nav.faq', roles: ['admin', 'editor'] },
  { href: '/admin/pages', key: 'admin.nav.pages', roles: ['admin', 'editor'] },
];

export function AdminLayout({
  ctx,
  title,
  children,
}: {
  ctx: AdminContext;
  title: string;
  children: ComponentChildren;
}) {
  const { t, operator } = ctx;
  return (
    <html lang={ctx.lang}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{`${title} | ${t('admin.title')}`}</title>
        <link rel="stylesheet" href="/static/portal.css" />
        <script src="/static/portal.js" defer></script>
      </head>
      <body class="admin">
        <a class="skip" href="#main">
          {t('site.skip')}
        </a>
        <header class="header header--admin">
          <div class="header__inner">
            <a class="header__title" href="/admin">
              {t('site.title')} {t('admin.title')}
            </a>
            {operator ? (
              <nav class="header__nav" aria-label={t('admin.nav.label')}>
                <ul>
                  {MENU.filter((m) => m.roles.includes(operator.role)).map((m) => (
                    <li>
                      <a href={m.href}>{menuLabel(ctx, m)}</a>
                    </li>
                  ))}
                  <li class="header__user">
                    {t('admin.operator', {
                      name: operator.display_name,
                      role: t(`admin.role.${operator.role}` as MessageKey),
                    })}
                  </li>
                  <li>
                    <form method="post" action="/admin/logout" class="inline-form">
                      <input type="hidden" name="_csrf" value={ctx.csrfToken} />
                      <button type="submit" class="linklike">
                        {t('admin.nav.logout')}
                      </button>
                    </form>
                  </li>
                </ul>
              </nav>
            ) : null}
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          <div class="container">
            <h1>{title}</h1>
            {children}
          </div>
        </main>
      </body>
    </html>
  );
}

/** A menu entry's text, with its count when there is something waiting (「登録確認待ち（2件）」). */
export function menuLabel(ctx: AdminContext, m: { key: MessageKey; count?: MenuCount }): string {
  const n = m.count ? ctx.counts?.[m.count] : undefined;
  return n ? `${ctx.t(m.key)}${ctx.t('admin.nav.count', { n })}` : ctx.t(m.key);
}

/** The reason box every operator action asks for (audited with the action). */
export function ReasonField({ t, id, error }: { t: Translate; id: string; error?: string | undefined }) {
  return (
    <div class={`field${error ? ' field--error' : ''}`}>
      <label for={id} class="field__label">
        {t('admin.reason')}
        <span class="field__req" aria-hidden="true">
          *
        </span>
      </label>
      <p id={`${id}-help`} class="field__help">
        {t('admin.reasonHelp')}
      </p>
      <input
        id={id}
        name="reason"
        type="text"
        required
        maxLength={500}
        aria-describedby={`${id}-help${error ? ` ${id}-error` : ''}`}
        aria-invalid={error ? 'true' : undefined}
      />
      {error ? (
        <div id={`${id}-error`} class="field__error">
          <p>{error}</p>
        </div>
      ) : null}
    </div>
  );
}

/** Console times: Japan time, to the second. */
export const jstTime = (at: number | null): string => japanDateTime(at, true);
