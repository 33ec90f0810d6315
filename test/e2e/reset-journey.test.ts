/**
 * The whole journey of the seed in a real browser (Debian's Chromium, playwright-core), walked as a person would:
 * by visible texts and labels, with axe-core on every screen and a full-page screenshot of each under test-results/.
 *
 * How the browser reaches the portal: the portal keeps the test BASE_URL (https://portal.example.jp), so its cookies
 * are `__Host-`/Secure as in production; it listens on 127.0.0.1 and the browser uses http://localhost:PORT, which
 * Chromium treats as a secure context (Secure cookies are accepted there, unlike on http://127.0.0.1). The mailed
 * link points at BASE_URL, so its origin is swapped for the listening one (path and query kept).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ja } from '../../src/web/i18n/ja.ts';
import { BASE_URL, CAPTCHA, GOOD_PASSWORD, linkOf, type TestPortal } from '../helpers/test-app.ts';
import {
  focused,
  screenshot,
  field,
  follow,
  shown,
  tileName,
  WAIT,
  browserPortal,
  launchOrSkip,
  captureScreen,
} from '../helpers/browser.ts';

const { launched, skip } = await launchOrSkip();

const NEW_PASSWORD = 'NewPassw0rd2026';

const heading = (page: Page, name: string, level?: number) =>
  page.getByRole('heading', { name, exact: true, ...(level ? { level } : {}) });
const currentStep = (page: Page) =>
  page.getByRole('list', { name: ja['reset.steps'] }).locator('[aria-current="step"]');

describe('browser: the reset journey in Chromium [sqlite]', { skip }, () => {
  const web = browserPortal(launched);
  const { newPage } = web;
  let portal: TestPortal;
  let base: string;

  before(async () => ({ portal, base } = await web.start()));

  after(() => web.close());

  test('W3 W4 R5 T4 T5 C2 P3: top → login → ① → ② → sent → mail → ③ → success → login with the new password, axe-clean on every screen', async () => {
    await portal.createUser({ username: 'clinic01', email: 'clinic01@example.jp', displayName: 'テスト医院' });
    const page = await newPage({ bypassCSP: true }); // only so that axe-core can be injected
    const a11y: string[] = [];
    const capture = (name: string) => captureScreen(page, name, a11y);

    // Top page /csm: the header menu and the tiles of the seed.
    await page.goto(`${base}/csm`);
    assert.equal(await page.title(), ja['site.title']);
    const nav = page.getByRole('navigation', { name: ja['nav.label'] });
    await shown(nav.getByText(ja['nav.services'], { exact: true }));
    for (const item of [ja['nav.news'], ja['nav.faq'], ja['nav.login']])
      await shown(nav.getByRole('link', { name: item, exact: true }));
    const main = page.getByRole('main');
    const tiles: Array<[string, string?]> = [
      [ja['top.register'], ja['top.registerSub']],
      [ja['top.login'], ja['top.loginSub']],
      [ja['top.changes']],
      [ja['top.news']],
      [ja['top.faq']],
      [ja['top.contact']],
      [ja['service.oqs']],
      [ja['service.eps']],
      [ja['service.ehr']],
    ];
    for (const [title, sub] of tiles) await shown(main.getByRole('link', { name: tileName(title, sub) }));
    await capture('01-top');
    // The per-service menu opens and lists the three services.
    await nav.getByText(ja['nav.services'], { exact: true }).click();
    for (const s of [ja['service.oqs'], ja['service.eps'], ja['service.ehr']])
      await shown(nav.getByRole('link', { name: s, exact: true }));

    // → ログイン in the header → the login page with the notice about provisional accounts.
    await follow(page, nav.getByRole('link', { name: ja['nav.login'], exact: true }));
    assert.equal(new URL(page.url()).pathname, '/login');
    await shown(heading(page, ja['login.heading'].replace(/^●/, ''), 1));
    for (const key of ['login.notice.lead', 'login.notice.item1', 'login.notice.item2', 'login.notice.p4'] as const) {
      await shown(page.getByText(ja[key], { exact: true }));
    }
    await shown(page.getByRole('link', { name: ja['login.register'], exact: true }));
    await capture('02-login');
    // P3: the show-password toggle switches the field between hidden and shown, and back.
    const loginPassword = field(page, ja['login.password']);
    await loginPassword.fill('abc');
    assert.equal(await loginPassword.getAttribute('type'), 'password');
    await page.getByRole('button', { name: ja['pw.show'], exact: true }).click();
    assert.equal(await loginPassword.getAttribute('type'), 'text');
    const hide = page.getByRole('button', { name: ja['pw.hide'], exact: true });
    assert.equal(await hide.getAttribute('aria-pressed'), 'true');
    await hide.click();
    assert.equal(await loginPassword.getAttribute('type'), 'password');
    await shown(page.getByRole('button', { name: ja['pw.show'], exact: true }));

    // → パスワードの再設定 → ① 特定.
    await follow(page, page.getByRole('link', { name: ja['login.forgot'], exact: true }));
    assert.match(page.url(), /\/password-reset\?flow=/);
    await shown(heading(page, ja['reset.title'], 1));
    await shown(heading(page, ja['reset.identify.heading'], 2));
    assert.match(await currentStep(page).innerText(), new RegExp(ja['reset.step1']));
    const captchaImage = page.getByRole('img', { name: ja['reset.captchaAlt'] });
    await shown(captchaImage);
    await field(page, ja['reset.username']).fill('clinic01');
    // W4: drawing new characters keeps the username typed so far.
    await follow(page, page.getByRole('button', { name: ja['reset.captchaRefresh'] }));
    assert.equal(await field(page, ja['reset.username']).inputValue(), 'clinic01');
    assert.ok(
      await captchaImage.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0),
      'the CAPTCHA image is drawn',
    );
    await field(page, ja['reset.captcha']).fill(CAPTCHA);
    await capture('03-identify');
    await follow(page, page.getByRole('button', { name: ja['reset.next'], exact: true }));

    // ② 検証: パーソナルデータ検証 - メールアドレス, the username carried forward.
    await shown(heading(page, ja['reset.verify.heading'], 2));
    assert.match(await currentStep(page).innerText(), new RegExp(ja['reset.step2']));
    await shown(page.getByText(ja['reset.verify.forUser'].replace('{username}', 'clinic01'), { exact: true }));
    await field(page, ja['reset.email']).fill('clinic01@example.jp');
    await capture('04-verify');
    await follow(page, page.getByRole('button', { name: ja['reset.next'], exact: true }));

    // The sent page.
    await shown(heading(page, ja['reset.sent.heading'], 2));
    await shown(page.getByRole('link', { name: ja['reset.sent.toLogin'], exact: true }));
    await capture('05-sent');

    // The mail's link (built from BASE_URL, T4), opened on the listening origin.
    const mail = await portal.sink.waitFor(
      (m) => m.to.includes('clinic01@example.jp') && m.subject.includes('パスワード変更用URL'),
    );
    const link = new URL(linkOf(mail));
    assert.equal(link.origin, BASE_URL);
    await page.goto(`${base}${link.pathname}${link.search}`);

    // ③ リセット: the token has left the address bar (T5).
    assert.match(page.url(), /\/passwordreset\.do\?flow=/);
    assert.doesNotMatch(page.url(), /sysparm_tiny/);
    await shown(heading(page, ja['reset.reset.heading'], 2));
    assert.match(await currentStep(page).innerText(), new RegExp(ja['reset.step3']));
    await shown(page.getByText(ja['reset.reset.forUser'].replace('{username}', 'clinic01'), { exact: true }));
    await shown(page.getByText(ja['policy.rule.portal']));
    await field(page, ja['reset.newPassword']).fill(NEW_PASSWORD);
    await field(page, ja['reset.confirmPassword']).fill(NEW_PASSWORD);
    await capture('06-reset');
    await follow(page, page.getByRole('button', { name: ja['reset.submit'], exact: true }));

    // 「Password Resetに成功」, not logged in (C2).
    await shown(heading(page, ja['reset.done.heading'], 2));
    await shown(
      page.getByRole('navigation', { name: ja['nav.label'] }).getByRole('link', { name: ja['nav.login'], exact: true }),
    );
    await capture('07-success');

    // 完了 → the login page → log in with the new password → the top page, logged in.
    await follow(page, page.getByRole('link', { name: ja['reset.done.finish'], exact: true }));
    assert.equal(new URL(page.url()).pathname, '/login');
    await shown(page.getByText(ja['login.afterReset'], { exact: true }));
    await field(page, ja['login.username']).fill('clinic01');
    await field(page, ja['login.password']).fill(NEW_PASSWORD);
    await follow(page, page.getByRole('button', { name: ja['login.submit'], exact: true }));
    assert.equal(new URL(page.url()).pathname, '/csm');
    const header = page.getByRole('navigation', { name: ja['nav.label'] });
    await shown(header.getByText(ja['nav.user'].replace('{name}', 'テスト医院'), { exact: true }));
    await shown(header.getByRole('button', { name: ja['nav.logout'], exact: true }));
    await shown(page.getByText(ja['top.welcome'].replace('{name}', 'テスト医院'), { exact: true }));
    await capture('08-logged-in');

    assert.deepEqual(a11y, [], a11y.join('\n'));
  });

  test('W2 K1: the CAPTCHA picture is shown at 240×80 CSS px (its PNG twice that) on a desktop, and on a 320 px phone it fits the field column without sideways scrolling', async () => {
    const shownSize = async (page: Page) => {
      await page.goto(`${base}/password-reset`);
      const image = page.getByRole('img', { name: ja['reset.captchaAlt'] });
      await shown(image);
      await image.evaluate((img: HTMLImageElement) => img.decode());
      return image.evaluate((img: HTMLImageElement) => {
        const column = img.parentElement!.getBoundingClientRect();
        const box = img.getBoundingClientRect();
        return {
          width: img.clientWidth,
          height: img.clientHeight,
          natural: [img.naturalWidth, img.naturalHeight],
          inColumn: box.left >= column.left - 0.5 && box.right <= column.right + 0.5,
          scrolls: document.documentElement.scrollWidth > document.documentElement.clientWidth,
        };
      });
    };
    const desktop = await shownSize(await newPage());
    assert.deepEqual([desktop.width, desktop.height], [240, 80], 'shown at 240×80 on a desktop');
    assert.deepEqual(desktop.natural, [480, 160], 'drawn at 2× for sharpness');
    const phone = await shownSize(
      await newPage({ viewport: { width: 320, height: 640 }, isMobile: true, deviceScaleFactor: 2 }),
    );
    assert.ok(phone.inColumn, `inside the field column on a phone (${JSON.stringify(phone)})`);
    assert.ok(!phone.scrolls, 'no sideways scrolling on a phone');
    assert.ok(
      phone.width >= 200 && Math.abs(phone.width / phone.height - 3) < 0.05,
      `still large and not distorted on a phone (${phone.width}×${phone.height})`,
    );
  });

  test('W3: keyboard only on the login page — Tab order is sensible and Enter submits', async () => {
    await portal.createUser({ username: 'clinic02', email: 'clinic02@example.jp', displayName: '鍵盤薬局' });
    const page = await newPage();
    await page.goto(`${base}/login`);
    const stops: string[] = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      stops.push(await focused(page));
      if (stops.at(-1) === `a:${ja['login.forgot']}`) break;
    }
    assert.equal(stops[0], `a:${ja['site.skip']}`, `the first Tab stop is the skip link: ${stops.join(' → ')}`);
    const at = stops.indexOf(`input:${ja['login.username']}`);
    assert.ok(at > 0, `Tab reaches ${ja['login.username']}: ${stops.join(' → ')}`);
    assert.deepEqual(
      stops.slice(at),
      [
        `input:${ja['login.username']}`,
        `input:${ja['login.password']}`,
        `button:${ja['pw.show']}`,
        `button:${ja['login.submit']}`,
        `a:${ja['login.forgot']}`,
      ],
      stops.join(' → '),
    );

    // Again from the top: Tab to ユーザー名, type, Tab, type, Enter.
    await page.goto(`${base}/login`);
    for (let i = 0; i < at + 1; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(page), `input:${ja['login.username']}`);
    await page.keyboard.type('clinic02');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), `input:${ja['login.password']}`);
    await page.keyboard.type(GOOD_PASSWORD);
    const navigated = page.waitForURL(`${base}/csm`);
    await page.keyboard.press('Enter');
    await navigated;
    await shown(page.getByText(ja['nav.user'].replace('{name}', '鍵盤薬局'), { exact: true }));
  });

  test('W3: without JavaScript, ① and ② reach the sent page and the mail goes out', async () => {
    await portal.createUser({ username: 'clinic03', email: 'clinic03@example.jp' });
    const page = await newPage({ javaScriptEnabled: false });
    await page.goto(`${base}/login`);
    // The show-password toggle needs the script, so it stays hidden; the field still works.
    assert.equal(await page.getByRole('button', { name: ja['pw.show'] }).count(), 0);
    await follow(page, page.getByRole('link', { name: ja['login.forgot'], exact: true }));
    await field(page, ja['reset.username']).fill('clinic03');
    await follow(page, page.getByRole('button', { name: ja['reset.captchaRefresh'] }));
    assert.equal(await field(page, ja['reset.username']).inputValue(), 'clinic03');
    // No JavaScript: the proof-of-work button stays hidden and the page points to the call center (K2).
    assert.equal(await page.getByRole('button', { name: ja['captcha.pow.button'] }).count(), 0);
    await shown(
      page.getByText(ja['reset.captchaPhoneHelp'].replace('{phone}', portal.config.callCenterPhone), { exact: true }),
    );
    // K4: Enter in the CAPTCHA field presses 「次へ」 (the form's first submit button), not the redraw.
    await field(page, ja['reset.captcha']).fill(CAPTCHA);
    const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: WAIT });
    await field(page, ja['reset.captcha']).press('Enter');
    await navigated;
    await shown(heading(page, ja['reset.verify.heading'], 2));
    await field(page, ja['reset.email']).fill('clinic03@example.jp');
    await follow(page, page.getByRole('button', { name: ja['reset.next'], exact: true }));
    await shown(heading(page, ja['reset.sent.heading'], 2));
    const mail = await portal.sink.waitFor((m) => m.to.includes('clinic03@example.jp'));
    assert.match(mail.subject, /パスワード変更用URL/);
  });

  test('K2 K4 W2: under the real CSP, 「画像の文字を入力せずに確認する」 solves the proof of work in the browser, says so in the live region, and ① passes without the characters; Enter in the username field presses 「次へ」', async () => {
    await portal.createUser({ username: 'clinic04', email: 'clinic04@example.jp' });
    const page = await newPage(); // no bypassCSP: captcha-pow.js runs under script-src 'self'
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${base}/password-reset`);
    await field(page, ja['reset.username']).fill('clinic04');
    const status = page.getByRole('status').filter({ hasText: ja['captcha.pow.done'] });
    const started = Date.now();
    await page.getByRole('button', { name: ja['captcha.pow.button'], exact: true }).click();
    await status.waitFor({ state: 'visible', timeout: 60_000 });
    const took = Date.now() - started;
    console.log(`proof of work solved in the browser in ${took} ms`);
    assert.equal(await field(page, ja['reset.captcha']).inputValue(), '', 'no characters typed');
    await screenshot(page, '09-identify-proof-of-work');
    const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: WAIT });
    await field(page, ja['reset.username']).press('Enter');
    await navigated;
    await shown(heading(page, ja['reset.verify.heading'], 2));
    assert.deepEqual(errors, [], errors.join('\n'));
    const identified = (await portal.audit('password_reset.identified')).filter((a) => a.identifier === 'clinic04');
    assert.deepEqual(
      identified.map((a) => JSON.parse(a.detail ?? '{}').captcha),
      ['proof_of_work'],
    );
  });

  test('L6 P3: under the real CSP the pages work (script, styles, CAPTCHA image) with no CSP error, and inline script is refused', async () => {
    const page = await newPage(); // no bypassCSP
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));

    const response = await page.goto(`${base}/login`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    // portal.js ran: the toggle it reveals is there and works.
    const password = field(page, ja['login.password']);
    await page.getByRole('button', { name: ja['pw.show'], exact: true }).click();
    assert.equal(await password.getAttribute('type'), 'text');
    // portal.css applied: the primary button is not the browser's default grey.
    const background = await page
      .getByRole('button', { name: ja['login.submit'], exact: true })
      .evaluate((b) => getComputedStyle(b).backgroundColor);
    assert.notEqual(background, 'rgb(239, 239, 239)');

    await follow(page, page.getByRole('link', { name: ja['login.forgot'], exact: true }));
    const captchaImage = page.getByRole('img', { name: ja['reset.captchaAlt'] });
    await shown(captchaImage);
    assert.ok(
      await captchaImage.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0),
      'the CAPTCHA image loads under img-src',
    );
    assert.deepEqual(errors, [], `console errors on the login and reset pages:\n${errors.join('\n')}`);

    // And the policy really is enforced in this context: an inline script is refused.
    await page.addScriptTag({ content: 'window.__inline = 1' }).catch(() => undefined);
    assert.equal(await page.evaluate(() => (globalThis as any).__inline), undefined);
    assert.ok(
      errors.some((e) => /Content Security Policy/i.test(e)),
      `the refusal is reported: ${errors.join('\n')}`,
    );
  });
});
