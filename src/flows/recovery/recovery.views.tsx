/** Screens of the password reset, as the seed shows them: ① 特定, ② 検証, sent, ③ リセット, done. */
import type { ComponentChildren } from 'preact';
import { Csrf, ErrorSummary, Field, Notice, ProvisionalAccountNotice } from '../../web/components.tsx';
import { Layout, type PageContext } from '../../web/layout.tsx';
import { CaptchaBlock, CaptchaRedrawButton } from '../../web/captcha-block.tsx';
import type { MessageKey } from '../../web/i18n/i18n.ts';

const STAGES: Array<[string, MessageKey]> = [
  ['①', 'reset.step1'],
  ['②', 'reset.step2'],
  ['③', 'reset.step3'],
];

/** The step indicator ① 特定 ② 検証 ③ リセット. */
export function Steps({ ctx, current }: { ctx: PageContext; current: 1 | 2 | 3 | 4 }) {
  const { t } = ctx;
  return (
    <ol class="steps" aria-label={t('reset.steps')}>
      {STAGES.map(([mark, key], i) => {
        const n = i + 1;
        const state = n < current ? 'done' : n === current ? 'current' : 'todo';
        return (
          <li class={`steps__item steps__item--${state}`} aria-current={state === 'current' ? 'step' : undefined}>
            <span class="steps__mark">{mark}</span> {t(key)}
            <span class="visually-hidden">
              {state === 'current' ? t('reset.stepCurrent') : state === 'done' ? t('reset.stepDone') : ''}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

/**
 * Each screen has its own page title (WCAG 2.4.2), so that a screen reader, a tab or the history tells the stages
 * apart: 「① 特定 - パスワードの再設定」, or the screen's heading for the sent and done pages.
 */
function ResetFrame({
  ctx,
  step,
  screen,
  children,
}: {
  ctx: PageContext;
  step: 1 | 2 | 3 | 4;
  screen?: MessageKey;
  children: ComponentChildren;
}) {
  const stage = STAGES[step - 1];
  const name = screen ? ctx.t(screen) : stage ? `${stage[0]} ${ctx.t(stage[1])}` : '';
  return (
    <Layout ctx={ctx} title={`${name} - ${ctx.t('reset.title')}`}>
      <div class="container container--narrow">
        <h1>{ctx.t('reset.title')}</h1>
        <Steps ctx={ctx} current={step} />
        {children}
      </div>
    </Layout>
  );
}

export interface IdentifyView {
  flowId: string;
  username: string;
  phone: string;
  /** A solved proof of work that came back unused (the username was missing). */
  pow?: string | undefined;
  notice?: MessageKey | undefined;
  errors: { username?: string; captcha?: string };
}

export function IdentifyPage({ ctx, v }: { ctx: PageContext; v: IdentifyView }) {
  const { t } = ctx;
  const action = `/password-reset?flow=${v.flowId}`;
  const hasErrors = Boolean(v.errors.username || v.errors.captcha);
  return (
    <ResetFrame ctx={ctx} step={1}>
      {v.notice ? (
        <Notice kind="info">
          <p>{t(v.notice)}</p>
        </Notice>
      ) : null}
      <ErrorSummary t={t} show={hasErrors} />
      <h2>{t('reset.identify.heading')}</h2>
      <p>{t('reset.identify.lead')}</p>
      <p class="muted">{t('site.requiredNote')}</p>
      <form method="post" action={action} novalidate>
        <Csrf token={ctx.csrfToken} />
        <input type="hidden" name="stage" value="identify" />
        <Field
          t={t}
          id="username"
          name="username"
          label={t('reset.username')}
          help={t('reset.usernameHelp')}
          required
          value={v.username}
          autocomplete="username"
          maxLength={100}
          error={v.errors.username}
          autofocus={!v.username}
        />
        <CaptchaBlock
          t={t}
          base="/password-reset"
          flowId={v.flowId}
          phone={v.phone}
          error={v.errors.captcha}
          pow={v.pow}
          autofocus={Boolean(v.username)}
        />
        <div class="actions">
          <button type="submit" name="action" value="next" class="button button--primary">
            {t('reset.next')}
          </button>
          <CaptchaRedrawButton t={t} />
        </div>
      </form>
    </ResetFrame>
  );
}

export interface VerifyView {
  flowId: string;
  username: string;
  email: string;
  notice?: MessageKey | undefined;
  errors: { email?: string };
}

export function VerifyPage({ ctx, v }: { ctx: PageContext; v: VerifyView }) {
  const { t } = ctx;
  return (
    <ResetFrame ctx={ctx} step={2}>
      {v.notice ? (
        <Notice kind="info">
          <p>{t(v.notice)}</p>
        </Notice>
      ) : null}
      <ErrorSummary t={t} show={Boolean(v.errors.email)} />
      <h2>{t('reset.verify.heading')}</h2>
      <p>{t('reset.verify.lead')}</p>
      <p class="carried">{t('reset.verify.forUser', { username: v.username })}</p>
      <p class="muted">{t('site.requiredNote')}</p>
      <form method="post" action={`/password-reset?flow=${v.flowId}`} novalidate>
        <Csrf token={ctx.csrfToken} />
        <input type="hidden" name="stage" value="verify" />
        <Field
          t={t}
          id="email"
          name="email"
          type="email"
          label={t('reset.email')}
          help={t('reset.emailHelp')}
          required
          value={v.email}
          autocomplete="email"
          maxLength={254}
          error={v.errors.email}
          autofocus
          inputMode="email"
        />
        <div class="actions">
          <button type="submit" name="action" value="next" class="button button--primary">
            {t('reset.next')}
          </button>
          <button type="submit" name="action" value="back" class="button button--secondary" formnovalidate>
            {t('reset.back')}
          </button>
        </div>
      </form>
    </ResetFrame>
  );
}

export function SentPage({
  ctx,
  from,
  ttl,
  phone,
  notice,
}: {
  ctx: PageContext;
  from: string;
  ttl: string;
  phone: string;
  notice?: MessageKey | undefined;
}) {
  const { t } = ctx;
  return (
    <ResetFrame ctx={ctx} step={2} screen="reset.sent.heading">
      {notice ? (
        <Notice kind="info">
          <p>{t(notice)}</p>
        </Notice>
      ) : null}
      <h2>{t('reset.sent.heading')}</h2>
      <Notice kind="success">
        <p>{t('reset.sent.p1', { from })}</p>
      </Notice>
      <p>{t('reset.sent.p2', { ttl })}</p>
      {/* The seed's notice about provisional accounts, set apart: a provisional user who typed the placeholder lands here (issue 11 item 3). */}
      <section class="notice-box notice-box--important" aria-labelledby="sent-no-mail">
        <h3 id="sent-no-mail">{t('reset.sent.noMailHeading')}</h3>
        <ProvisionalAccountNotice t={t} />
        <p>{t('reset.sent.noMail3', { phone })}</p>
        <p>
          <a href="/register">{t('top.register')}</a>
        </p>
      </section>
      <p>{t('reset.sent.noMail2', { from })}</p>
      <p>
        <a href="/login">{t('reset.sent.toLogin')}</a>
      </p>
    </ResetFrame>
  );
}

export interface ResetView {
  flowId: string;
  username: string;
  ruleKey: MessageKey;
  errors: { password?: string[]; confirm?: string };
}

export function ResetPage({ ctx, v }: { ctx: PageContext; v: ResetView }) {
  const { t } = ctx;
  const hasErrors = Boolean(v.errors.password?.length || v.errors.confirm);
  return (
    <ResetFrame ctx={ctx} step={3}>
      <ErrorSummary t={t} show={hasErrors} />
      <h2>{t('reset.reset.heading')}</h2>
      <p>{t('reset.reset.lead')}</p>
      <p class="muted">{t('site.requiredNote')}</p>
      <form method="post" action={`/passwordreset.do?flow=${v.flowId}`} novalidate>
        <Csrf token={ctx.csrfToken} />
        {/* Lets password managers tie the new password to the account (P3). */}
        <input type="text" name="username" value={v.username} autocomplete="username" readOnly hidden />
        <p class="carried">{t('reset.reset.forUser', { username: v.username })}</p>
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
          autofocus
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
            {t('reset.submit')}
          </button>
        </div>
      </form>
    </ResetFrame>
  );
}

/** 完了 leads to the login page, which takes the username from this (done) flow of the same browser (W4). */
export function DonePage({ ctx, flowId }: { ctx: PageContext; flowId: string }) {
  const { t } = ctx;
  return (
    <ResetFrame ctx={ctx} step={4} screen="reset.done.heading">
      <h2>{t('reset.done.heading')}</h2>
      <Notice kind="success">
        <p>{t('reset.done.p1')}</p>
      </Notice>
      <div class="actions">
        <a class="button button--primary" href={`/login?m=afterReset&flow=${flowId}`}>
          {t('reset.done.finish')}
        </a>
      </div>
    </ResetFrame>
  );
}

export function LinkProblemPage({ ctx, message }: { ctx: PageContext; message: string }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('reset.link.heading')}>
      <div class="container container--narrow">
        <h1>{t('reset.link.heading')}</h1>
        <Notice kind="error">
          <p>{message}</p>
        </Notice>
        <p>{t('reset.link.restartHelp')}</p>
        <div class="actions">
          <a class="button button--primary" href="/password-reset">
            {t('reset.restart')}
          </a>
        </div>
      </div>
    </Layout>
  );
}
