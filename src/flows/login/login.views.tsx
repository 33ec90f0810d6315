/** The login page of the seed: the notice about mails that cannot arrive, then the form. */
import { Csrf, ErrorSummary, Field, Notice, ProvisionalAccountNotice } from '../../web/components.tsx';
import { Layout, type PageContext } from '../../web/layout.tsx';
import type { MessageKey, Translate } from '../../web/i18n/i18n.ts';

/** The lockout rule in words, with the link to the reset that lifts a lock from failed logins (never an operator's). */
function LockRule({ t, rule }: { t: Translate; rule: { threshold: number; minutes: number } }) {
  const [before, after] = t('login.lockRule.unlock').split('{link}');
  return (
    <>
      <p>{t('login.lockRule', rule)}</p>
      <p>
        {before}
        <a href="/password-reset">{t('login.forgot')}</a>
        {after}
      </p>
    </>
  );
}

export interface LoginView {
  username: string;
  notice?: MessageKey | undefined;
  failure?: string | undefined;
  /** Shown with the failure from the third in a row (issue 11 item 2): the same for every name, known or not (L1). */
  lockRule?: { threshold: number; minutes: number } | undefined;
  /** Where a successful login returns to (a safe local path, already checked). */
  next?: string | undefined;
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
          <ProvisionalAccountNotice t={t} leadId="login-notice-lead" />
          <p>{t('login.notice.p4')}</p>
        </section>

        <section class="card" aria-labelledby="login-form-heading">
          <h2 id="login-form-heading">{t('login.formHeading')}</h2>
          {v.notice ? (
            <Notice kind="info">
              <p>{t(v.notice)}</p>
            </Notice>
          ) : null}
          {v.failure ? (
            <Notice kind="error">
              <p>{v.failure}</p>
              {v.lockRule ? <LockRule t={t} rule={v.lockRule} /> : null}
            </Notice>
          ) : null}
          <ErrorSummary t={t} show={fieldErrors} />
          <form method="post" action="/login" novalidate>
            <Csrf token={ctx.csrfToken} />
            {v.next ? <input type="hidden" name="next" value={v.next} /> : null}
            <Field
              t={t}
              id="username"
              name="username"
              label={t('login.username')}
              help={t('login.usernameHelp')}
              required
              value={v.username}
              autocomplete="username"
              maxLength={100}
              error={v.errors.username}
            />
            {/* After a reset the username is filled in: the cursor waits in the password field. */}
            <Field
              t={t}
              id="password"
              name="password"
              type="password"
              label={t('login.password')}
              help={t('login.passwordHelp')}
              required
              autocomplete="current-password"
              maxLength={1000}
              error={v.errors.password}
              passwordToggle
              autofocus={v.notice === 'login.afterReset' && Boolean(v.username)}
            />
            <div class="actions actions--login">
              <button type="submit" class="button button--primary">
                {t('login.submit')}
              </button>
              <a href="/password-reset" class="login__forgot">
                {t('login.forgot')}
              </a>
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
