/**
 * The CAPTCHA of stage ① and /register (R6, W2, K1–K3): the PNG picture, the field for its 5 characters, and the
 * non-visual alternative, a proof of work that /static/captcha-pow.js solves when the person presses its button.
 * Without JavaScript that button stays hidden and the page points to the call center instead.
 *
 * The field is described (aria-describedby, W2) by its help, then by the call-center line; captcha-pow.js adds the
 * proof-of-work lead when it shows that button, so that a screen reader never announces a button that is not there.
 *
 * None of these controls is a submit button placed before 「次へ」: the form's default button (what Enter in a field
 * presses) is the first submit button in it, so the redraw button comes after 「次へ」 ({@link CaptchaRedrawButton})
 * and the proof-of-work button is a plain button.
 */
import { Field } from './components.tsx';
import type { Translate } from './i18n/i18n.ts';
import { PICTURE_HEIGHT, PICTURE_WIDTH } from '../security/captcha-picture.ts';

export interface CaptchaBlockProps {
  t: Translate;
  /** `/password-reset` or `/register`: the picture is under `${base}/captcha`, challenges under `${base}/pow`. */
  base: string;
  flowId: string;
  phone: string;
  error?: string[] | string | undefined;
  /** A solved proof of work posted with a form that came back for another field's error: kept, not yet used. */
  pow?: string | undefined;
  autofocus?: boolean;
}

export function CaptchaBlock({ t, base, flowId, phone, error, pow, autofocus }: CaptchaBlockProps) {
  const solved = Boolean(pow);
  return (
    <div class="captcha">
      <img
        class="captcha__image"
        src={`${base}/captcha?flow=${flowId}&r=${Date.now().toString(36)}`}
        alt={t('reset.captchaAlt')}
        width={PICTURE_WIDTH}
        height={PICTURE_HEIGHT}
      />
      <Field
        t={t}
        id="captcha"
        name="captcha"
        label={t('reset.captcha')}
        help={t('reset.captchaHelp')}
        required
        value=""
        autocomplete="off"
        maxLength={20}
        error={error}
        autofocus={autofocus}
        describedBy={['captcha-phone-help']}
      />
      <div
        class="captcha-pow"
        data-pow-url={`${base}/pow?flow=${flowId}`}
        data-working={t('captcha.pow.working')}
        data-done={t('captcha.pow.done')}
        data-failed={t('captcha.pow.failed', { phone })}
        data-limited={t('captcha.pow.limited', { phone })}
        data-unsupported={t('captcha.pow.unsupported', { phone })}
        hidden
      >
        <p id="captcha-pow-help" class="field__help">
          {t('captcha.pow.lead')}
        </p>
        <button
          type="button"
          class="button button--secondary"
          data-pow-start
          aria-describedby="captcha-pow-help"
          disabled={solved}
        >
          {t('captcha.pow.button')}
        </button>
        <p class="captcha-pow__status" role="status" aria-live="polite">
          {solved ? t('captcha.pow.done') : ''}
        </p>
        <input type="hidden" name="pow" value={pow ?? ''} />
      </div>
      <p id="captcha-phone-help" class="muted">
        {t('reset.captchaPhoneHelp', { phone })}
      </p>
      <script src="/static/captcha-pow.js" defer></script>
    </div>
  );
}

/** 「↻ 別の文字を表示」: placed after the form's 「次へ」 so that Enter in a field never draws new characters. */
export function CaptchaRedrawButton({ t }: { t: Translate }) {
  return (
    <button type="submit" name="action" value="refresh" class="button button--secondary" formnovalidate>
      <span aria-hidden="true">↻ </span>
      {t('reset.captchaRefresh')}
    </button>
  );
}
