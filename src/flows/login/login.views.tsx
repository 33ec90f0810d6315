/** The login page of the seed: the notice about mails that cannot arrive, then the form. */
import { Csrf, ErrorSummary, Field, Notice } from '../../web/components.tsx';
import { Layout, type PageContext } from '../../web/layout.tsx';
import type { MessageKey } from '../../web/i18n/i18n.ts';

export interface LoginView {
  username: string;
  notice?: MessageKey | undefined;
  failure?: string | undefined;
  errors: { username?: string; password?: string };
}

export function LoginPage({ ctx, v }: { ctx: PageContext; v: LoginView }) {
  const { t } = ctx;
  const fieldErrors = Boolean(v.errors.username || v.errors.password);
  return (
    <Layout ctx={ctx} title={t('login.title')}>
      <div class="container container--narrow">
        <h1>
          <span aria-hidden="true">●</span>
          {t('login.heading').replace(/^●/, '')}
        </h1>
        <section class="notice-box" aria-labelledby="login-notice-lead">
          <p id="login-notice-lead"><strong>{t('login.notice.lead')}</strong></p>
          <ul>
            <li>{t('login.notice.item1')}</li>
            <li>{t('login.notice.item2')}</li>
          </ul>
          <p>{t('login.notice.p1')}</p>
          <p>{t('login.notice.p2')}</p>
          <p>{t('login.notice.p3')}</p>
          <p>{t('login.notice.p4')}</p>
        </section>

        <section class="card" aria-labelledby="login-form-heading">
          <h2 id="login-form-heading">{t('login.formHeading')}</h2>
          {v.notice ? <Notice kind="info"><p>{t(v.notice)}</p></Notice> : null}
          {v.failure ? <Notice kind="error"><p>{v.failure}</p></Notice> : null}
          <ErrorSummary t={t} show={fieldErrors} />
          <form method="post" action="/login" novalidate>
            <Csrf token={ctx.csrfToken} />
            <Field t={t} id="username" name="username" label={t('login.username')} help={t('login.usernameHelp')} required
              value={v.username} autocomplete="username" maxLength={100} error={v.errors.username} />
            <Field t={t} id="password" name="password" type="password" label={t('login.password')} help={t('login.passwordHelp')} required
              autocomplete="current-password" maxLength={1000} error={v.errors.password} passwordToggle />
            <div class="actions actions--login">
              <button type="submit" class="button button--primary">{t('login.submit')}</button>
              <a href="/password-reset" class="login__forgot">{t('login.forgot')}</a>
            </div>
          </form>
          <p class="login__register">
            {t('login.noAccount')} <a href="/register">{t('login.register')}</a>
          </p>
        </section>
      </div>
    </Layout>
  );
}
