/** アカウント情報 and its forms: change e-mail, change password, recent security events. */
import { Csrf, ErrorSummary, Field, Notice } from '../../web/components.tsx';
import { Layout, type PageContext } from '../../web/layout.tsx';
import type { MessageKey } from '../../web/i18n/i18n.ts';

export interface AccountView {
  rows: Array<[string, string]>;
  events: Array<{ when: string; what: string; from: string }>;
  notice?: string | undefined;
}

export function AccountPage({ ctx, v }: { ctx: PageContext; v: AccountView }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('account.title')}>
      <div class="container container--narrow">
        <h1>{t('account.title')}</h1>
        {v.notice ? (
          <Notice kind="success">
            <p>{v.notice}</p>
          </Notice>
        ) : null}
        <h2>{t('account.details')}</h2>
        <dl class="summary">
          {v.rows.map(([k, val]) => (
            <>
              <dt>{k}</dt>
              <dd>{val}</dd>
            </>
          ))}
        </dl>
        <ul class="link-list">
          <li>
            <a href="/account/email">{t('account.changeEmail')}</a>
          </li>
          <li>
            <a href="/account/password">{t('account.changePassword')}</a>
          </li>
        </ul>
        <h2>{t('account.events')}</h2>
        {v.events.length === 0 ? (
          <p>{t('account.eventsEmpty')}</p>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('account.when')}</th>
                <th scope="col">{t('account.what')}</th>
                <th scope="col">{t('account.from')}</th>
              </tr>
            </thead>
            <tbody>
              {v.events.map((e) => (
                <tr>
                  <td>{e.when}</td>
                  <td>{e.what}</td>
                  <td>{e.from}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </Layout>
  );
}

export interface EmailFormView {
  current: string;
  /** The ユーザー名 (coordinators: ユーザーID), for password managers beside the current password. */
  login: string;
  provisional: boolean;
  value: string;
  errors: { email?: string | undefined; current?: string | undefined };
  sentTo?: string | undefined;
}

export function EmailPage({ ctx, v }: { ctx: PageContext; v: EmailFormView }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('account.email.heading')}>
      <div class="container container--narrow">
        <h1>{v.provisional ? t('account.provisional.heading') : t('account.email.heading')}</h1>
        {v.provisional ? (
          <Notice kind="info">
            <p>{t('account.provisional.p1', { email: v.current })}</p>
            <p>{t('account.provisional.p2')}</p>
          </Notice>
        ) : (
          <p>{t('account.email.current', { email: v.current })}</p>
        )}
        {v.sentTo ? (
          <Notice kind="success">
            <p>{t('account.email.sent', { email: v.sentTo, confirm: t('account.email.confirmSubmit') })}</p>
          </Notice>
        ) : null}
        <ErrorSummary t={t} show={Boolean(v.errors.email || v.errors.current)} />
        <form method="post" action="/account/email" novalidate>
          <Csrf token={ctx.csrfToken} />
          <input type="text" name="username" value={v.login} autocomplete="username" readOnly hidden />
          <Field
            t={t}
            id="email"
            name="email"
            type="email"
            label={t('account.email.new')}
            help={t('reg.emailHelp')}
            required
            value={v.value}
            autocomplete="email"
            maxLength={254}
            error={v.errors.email}
          />
          <Field
            t={t}
            id="current-password"
            name="current"
            type="password"
            label={t('account.password.current')}
            help={t('account.email.currentHelp')}
            required
            autocomplete="current-password"
            maxLength={1000}
            error={v.errors.current}
            passwordToggle
          />
          <div class="actions">
            <button type="submit" class="button button--primary">
              {t('account.email.submit')}
            </button>
          </div>
        </form>
        {v.provisional ? null : (
          <p>
            <a href="/account">{t('account.back')}</a>
          </p>
        )}
      </div>
    </Layout>
  );
}

export function EmailConfirmPage({ ctx, flowId, email }: { ctx: PageContext; flowId: string; email: string }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('account.email.confirmHeading')}>
      <div class="container container--narrow">
        <h1>{t('account.email.confirmHeading')}</h1>
        <p>{t('account.email.confirmLead', { email })}</p>
        <form method="post" action={`/account/email/verify?flow=${flowId}`}>
          <Csrf token={ctx.csrfToken} />
          <div class="actions">
            <button type="submit" class="button button--primary">
              {t('account.email.confirmSubmit')}
            </button>
          </div>
        </form>
      </div>
    </Layout>
  );
}

export function EmailDonePage({ ctx }: { ctx: PageContext }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('account.email.done')}>
      <div class="container container--narrow">
        <h1>{t('account.email.confirmHeading')}</h1>
        <Notice kind="success">
          <p>{t('account.email.done')}</p>
        </Notice>
        <p>
          <a href="/account">{t('account.back')}</a>
        </p>
      </div>
    </Layout>
  );
}

export interface PasswordFormView {
  ruleKey: MessageKey;
  username: string;
  errors: { current?: string; password?: string[]; confirm?: string };
}

export function PasswordPage({ ctx, v }: { ctx: PageContext; v: PasswordFormView }) {
  const { t } = ctx;
  const e = v.errors;
  return (
    <Layout ctx={ctx} title={t('account.password.heading')}>
      <div class="container container--narrow">
        <h1>{t('account.password.heading')}</h1>
        <ErrorSummary t={t} show={Boolean(e.current || e.password?.length || e.confirm)} />
        <form method="post" action="/account/password" novalidate>
          <Csrf token={ctx.csrfToken} />
          <input type="text" name="username" value={v.username} autocomplete="username" readOnly hidden />
          <Field
            t={t}
            id="current-password"
            name="current"
            type="password"
            label={t('account.password.current')}
            required
            autocomplete="current-password"
            maxLength={1000}
            error={e.current}
            passwordToggle
          />
          <Field
            t={t}
            id="new-password"
            name="password"
            type="password"
            label={t('reset.newPassword')}
            help={`${t(v.ruleKey)} ${t('policy.rule.common')}`}
            required
            autocomplete="new-password"
            maxLength={1000}
            error={e.password}
            passwordToggle
          />
          <Field
            t={t}
            id="confirm-password"
            name="confirm"
            type="password"
            label={t('reset.confirmPassword')}
            help={t('reset.confirmHelp')}
            required
            autocomplete="new-password"
            maxLength={1000}
            error={e.confirm}
            passwordToggle
          />
          <div class="actions">
            <button type="submit" class="button button--primary">
              {t('account.password.submit')}
            </button>
          </div>
        </form>
        <p>
          <a href="/account">{t('account.back')}</a>
        </p>
      </div>
    </Layout>
  );
}
