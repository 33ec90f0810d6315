/** Screens of 新規ユーザー登録: the form, the sent page, the password page and the completion page. */
import { Csrf, ErrorSummary, Field, Notice } from '../../web/components.tsx';
import { Layout, type PageContext } from '../../web/layout.tsx';
import { CaptchaBlock, CaptchaRedrawButton } from '../../web/captcha-block.tsx';
import type { MessageKey } from '../../web/i18n/i18n.ts';

export interface RegisterFormView {
  flowId: string;
  values: Record<'accountType' | 'code' | 'name' | 'contact' | 'email' | 'phone' | 'codes', string>;
  errors: Partial<
    Record<'accountType' | 'code' | 'name' | 'contact' | 'email' | 'phone' | 'codes' | 'captcha', string[]>
  >;
  /** A solved proof of work that came back unused (another field had an error). */
  pow?: string | undefined;
  phone: string;
}

function errorBlock(id: string, errors: string[] | undefined) {
  if (!errors?.length) return null;
  return (
    <div id={`${id}-error`} class="field__error">
      {errors.map((e) => (
        <p>{e}</p>
      ))}
    </div>
  );
}

export function RegisterPage({ ctx, v }: { ctx: PageContext; v: RegisterFormView }) {
  const { t } = ctx;
  const e = v.errors;
  const any = Object.values(e).some((x) => x && x.length);
  const typeErr = !!e.accountType?.length;
  const codesErr = !!e.codes?.length;
  return (
    <Layout ctx={ctx} title={t('reg.title')}>
      <div class="container container--narrow">
        <h1>{t('reg.title')}</h1>
        <p>{t('reg.lead')}</p>
        <Notice kind="info">
          <p>{t('reg.provisionalNote', { phone: v.phone })}</p>
        </Notice>
        <ErrorSummary t={t} show={any} />
        <p class="muted">{t('site.requiredNote')}</p>
        <form method="post" action={`/register?flow=${v.flowId}`} novalidate>
          <Csrf token={ctx.csrfToken} />
          <fieldset
            class="field"
            aria-describedby={`accountType-help${typeErr ? ' accountType-error' : ''}`}
            aria-invalid={typeErr ? 'true' : undefined}
          >
            <legend class="field__label">
              {t('reg.accountType')}
              <span class="field__req" aria-hidden="true">
                *
              </span>
            </legend>
            <p id="accountType-help" class="field__help">
              {t('reg.accountTypeHelp')}
            </p>
            <label class="choice">
              <input
                type="radio"
                name="accountType"
                value="institution"
                checked={v.values.accountType !== 'coordinator'}
                required
              />{' '}
              {t('reg.type.institution')}
            </label>
            <label class="choice">
              <input
                type="radio"
                name="accountType"
                value="coordinator"
                checked={v.values.accountType === 'coordinator'}
              />{' '}
              {t('reg.type.coordinator')}
            </label>
            {errorBlock('accountType', e.accountType)}
          </fieldset>
          <Field
            t={t}
            id="code"
            name="code"
            label={t('reg.code')}
            help={t('reg.codeHelp')}
            value={v.values.code}
            inputMode="numeric"
            maxLength={20}
            autocomplete="off"
            error={e.code}
          />
          <Field
            t={t}
            id="name"
            name="name"
            label={t('reg.name')}
            help={t('reg.nameHelp')}
            required
            value={v.values.name}
            maxLength={200}
            autocomplete="organization"
            error={e.name}
          />
          <Field
            t={t}
            id="contact"
            name="contact"
            label={t('reg.contact')}
            help={t('reg.contactHelp')}
            required
            value={v.values.contact}
            maxLength={100}
            autocomplete="name"
            error={e.contact}
          />
          <Field
            t={t}
            id="email"
            name="email"
            type="email"
            label={t('reg.email')}
            help={t('reg.emailHelp')}
            required
            value={v.values.email}
            maxLength={254}
            autocomplete="email"
            error={e.email}
          />
          <Field
            t={t}
            id="phone"
            name="phone"
            label={t('reg.phone')}
            help={t('reg.phoneHelp')}
            required
            value={v.values.phone}
            maxLength={20}
            autocomplete="tel"
            inputMode="tel"
            error={e.phone}
          />
          <div class={`field${codesErr ? ' field--error' : ''}`}>
            <label for="codes" class="field__label">
              {t('reg.codes')}
            </label>
            <p id="codes-help" class="field__help">
              {t('reg.codesHelp')}
            </p>
            <textarea
              id="codes"
              name="codes"
              rows={5}
              cols={20}
              aria-describedby={`codes-help${codesErr ? ' codes-error' : ''}`}
              aria-invalid={codesErr ? 'true' : undefined}
            >
              {v.values.codes}
            </textarea>
            {errorBlock('codes', e.codes)}
          </div>
          <CaptchaBlock t={t} base="/register" flowId={v.flowId} phone={v.phone} error={e.captcha} pow={v.pow} />
          <div class="actions">
            <button type="submit" name="action" value="next" class="button button--primary">
              {t('reg.submit')}
            </button>
            <CaptchaRedrawButton t={t} />
          </div>
        </form>
      </div>
    </Layout>
  );
}

export function RegisterSentPage({ ctx, from, phone }: { ctx: PageContext; from: string; phone: string }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('reg.sent.heading')}>
      <div class="container container--narrow">
        <h1>{t('reg.sent.heading')}</h1>
        <Notice kind="success">
          <p>{t('reg.sent.p1', { from })}</p>
        </Notice>
        <p>{t('reg.sent.p2')}</p>
        <p>{t('reg.sent.p3', { phone })}</p>
        <p>
          <a href="/csm">{t('content.backToTop')}</a>
        </p>
      </div>
    </Layout>
  );
}

export interface SetPasswordView {
  flowId: string;
  summary: Array<[string, string]>;
  ruleKey: MessageKey;
  errors: { password?: string[]; confirm?: string };
  /** The code is held by a provisional account: the account opens after the call center's call-back (V5). */
  callBack?: boolean;
}

export function SetPasswordPage({ ctx, v }: { ctx: PageContext; v: SetPasswordView }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('reg.verify.heading')}>
      <div class="container container--narrow">
        <h1>{t('reg.verify.heading')}</h1>
        <p>{t('reg.verify.lead')}</p>
        {v.callBack ? (
          <Notice kind="info">
            <p>{t('reg.case.verifyNote')}</p>
          </Notice>
        ) : null}
        <ErrorSummary t={t} show={Boolean(v.errors.password?.length || v.errors.confirm)} />
        <h2>{t('reg.summary')}</h2>
        <dl class="summary">
          {v.summary.map(([k, val]) => (
            <>
              <dt>{k}</dt>
              <dd>{val}</dd>
            </>
          ))}
        </dl>
        <form method="post" action={`/register/verify?flow=${v.flowId}`} novalidate>
          <Csrf token={ctx.csrfToken} />
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
            error={v.errors.password}
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
            error={v.errors.confirm}
            passwordToggle
          />
          <div class="actions">
            <button type="submit" class="button button--primary">
              {t('reg.verify.submit')}
            </button>
          </div>
        </form>
      </div>
    </Layout>
  );
}

export function RegisterDonePage({
  ctx,
  username,
  userId,
}: {
  ctx: PageContext;
  username: string;
  userId: string | null;
}) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('reg.done.heading')}>
      <div class="container container--narrow">
        <h1>{t('reg.done.heading')}</h1>
        <Notice kind="success">
          <p class="carried">{t('reg.done.username', { username })}</p>
          {userId ? <p class="carried">{t('reg.done.userId', { userId })}</p> : null}
        </Notice>
        {userId ? <p>{t('reg.done.coordinatorNote')}</p> : null}
        <p>{t('reg.done.p1')}</p>
        <div class="actions">
          <a class="button button--primary" href="/login">
            {t('reg.done.toLogin')}
          </a>
        </div>
      </div>
    </Layout>
  );
}

/** A used registration link whose registration went through: it is complete, log in (not 「ユーザー登録をやり直す」). */
export function RegisterAlreadyDonePage({ ctx }: { ctx: PageContext }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('reg.link.doneHeading')}>
      <div class="container container--narrow">
        <h1>{t('reg.link.doneHeading')}</h1>
        <Notice kind="info">
          <p>{t('reg.link.done')}</p>
        </Notice>
        <p>{t('reg.done.p1')}</p>
        <p>{t('reg.link.doneForgot')}</p>
        <div class="actions">
          <a class="button button--primary" href="/login">
            {t('reg.done.toLogin')}
          </a>
        </div>
      </div>
    </Layout>
  );
}

/** After the password, for a code held by a provisional account: nothing opens until the call-back (V5). */
export function RegisterPendingPage({
  ctx,
  code,
  email,
  phone,
}: {
  ctx: PageContext;
  code: string;
  email: string;
  phone: string;
}) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('reg.case.heading')}>
      <div class="container container--narrow">
        <h1>{t('reg.case.heading')}</h1>
        <Notice kind="info">
          <p>{t('reg.case.p1', { code })}</p>
          <p>{t('reg.case.p2')}</p>
        </Notice>
        <p>{t('reg.case.p3', { email })}</p>
        <p>{t('reg.case.p4', { phone })}</p>
        <p>
          <a href="/csm">{t('content.backToTop')}</a>
        </p>
      </div>
    </Layout>
  );
}

export function RegisterLinkProblemPage({
  ctx,
  message,
  heading,
  restartHref,
  restartLabel,
}: {
  ctx: PageContext;
  message: string;
  heading: string;
  restartHref: string;
  restartLabel: string;
}) {
  return (
    <Layout ctx={ctx} title={heading}>
      <div class="container container--narrow">
        <h1>{heading}</h1>
        <Notice kind="error">
          <p>{message}</p>
        </Notice>
        <div class="actions">
          <a class="button button--primary" href={restartHref}>
            {restartLabel}
          </a>
        </div>
      </div>
    </Layout>
  );
}
