/** Shared form parts that carry the accessibility rules W1 and P3. */
import type { ComponentChildren } from 'preact';
import type { Translate } from './i18n/i18n.ts';

export interface FieldProps {
  t: Translate;
  id: string;
  name: string;
  label: string;
  help?: string | undefined;
  error?: string | string[] | undefined;
  required?: boolean;
  type?: 'text' | 'password' | 'email';
  value?: string | undefined;
  autocomplete?: string;
  maxLength?: number;
  inputMode?: string;
  readOnly?: boolean;
  passwordToggle?: boolean;
  autofocus?: boolean;
  /** Ids of further text that describes the field (read after the help, before the errors). */
  describedBy?: string[];
  extra?: ComponentChildren;
}

/** A labelled input with its help text before it and its errors below it (W1). */
export function Field(p: FieldProps) {
  const errors = p.error === undefined ? [] : Array.isArray(p.error) ? p.error : [p.error];
  const helpId = p.help ? `${p.id}-help` : undefined;
  const errId = errors.length ? `${p.id}-error` : undefined;
  const describedBy = [helpId, ...(p.describedBy ?? []), errId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${errors.length ? ' field--error' : ''}`}>
      <label for={p.id} class="field__label">
        {p.label}
        {p.required ? (
          <span class="field__req" aria-hidden="true">
            *
          </span>
        ) : null}
      </label>
      {p.help ? (
        <p id={helpId} class="field__help">
          {p.help}
        </p>
      ) : null}
      <div class="field__control">
        <input
          id={p.id}
          name={p.name}
          type={(p.type ?? 'text') as 'text'}
          value={p.value ?? ''}
          required={p.required}
          aria-required={p.required ? 'true' : undefined}
          aria-invalid={errors.length ? 'true' : undefined}
          aria-describedby={describedBy}
          autocomplete={p.autocomplete}
          maxLength={p.maxLength}
          inputMode={p.inputMode}
          readOnly={p.readOnly}
          autofocus={p.autofocus}
          spellcheck={false}
          autoCapitalize="off"
          data-password={p.passwordToggle ? 'true' : undefined}
        />
        {p.passwordToggle ? (
          <button
            type="button"
            class="pw-toggle"
            data-toggle-for={p.id}
            data-show={p.t('pw.show')}
            data-hide={p.t('pw.hide')}
            aria-controls={p.id}
            aria-pressed="false"
            hidden
          >
            {p.t('pw.show')}
          </button>
        ) : null}
      </div>
      {p.extra}
      {errors.length ? (
        <div id={errId} class="field__error">
          {errors.map((e) => (
            <p>{e}</p>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** One message of an error summary and the id of the field it is about. */
export interface SummaryItem {
  field: string;
  message: string;
}

/**
 * A summary at the top of a form that failed, focusable so that it is announced (W1); portal.js moves focus to it.
 * With `items`, each message is a link to its field, so that a keyboard or screen-reader user goes straight there.
 */
export function ErrorSummary({ t, show, items }: { t: Translate; show: boolean; items?: SummaryItem[] }) {
  if (!show) return null;
  return (
    <div class="alert alert--error" role="alert" id="error-summary" tabIndex={-1}>
      {items?.length ? (
        <>
          <p>{t('form.errorSummary')}</p>
          <ul class="error-summary__list">
            {items.map((i) => (
              <li>
                <a href={`#${i.field}`}>{i.message}</a>
              </li>
            ))}
          </ul>
        </>
      ) : (
        t('form.errorSummary')
      )}
    </div>
  );
}

/** A form's errors (field id → message or messages) as summary items, in the order the fields were checked. */
export function summaryItems(errors: Record<string, string | string[] | undefined>): SummaryItem[] {
  return Object.entries(errors).flatMap(([field, m]) =>
    m === undefined ? [] : (Array.isArray(m) ? m : [m]).map((message) => ({ field, message })),
  );
}

export function Notice({ kind, children }: { kind: 'info' | 'error' | 'success'; children: ComponentChildren }) {
  return (
    <div class={`alert alert--${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/**
 * The seed's notice about provisional accounts (mails that cannot arrive, what to do instead), as the login page and
 * the reset's sent page both show it; each page adds its own last lines. `leadId` lets the page's section name it.
 */
export function ProvisionalAccountNotice({ t, leadId }: { t: Translate; leadId?: string }) {
  return (
    <>
      <p id={leadId}>
        <strong>{t('login.notice.lead')}</strong>
      </p>
      <ul>
        <li>{t('login.notice.item1')}</li>
        <li>{t('login.notice.item2')}</li>
      </ul>
      <p>{t('login.notice.p1')}</p>
      <p>{t('login.notice.p2')}</p>
      <p>{t('login.notice.p3')}</p>
    </>
  );
}
