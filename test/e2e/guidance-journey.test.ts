/**
 * Guidance in a real browser (issue 11 items 2, 3 and 7), walked by visible texts and labels with axe-core on every
 * screen and screenshots test-results/guidance-NN-*.png: the lockout rule on the third failed login and its link to
 * the reset; a provisional user typing the placeholder at ② and the notice box on the sent page; the way back to a
 * protected page after the login; 完了 after a reset with the username filled in; a used registration link.
 * The server is started as in reset-journey.test.ts (BASE_URL kept, listening on localhost).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ja } from '../../src/web/i18n/ja.ts';
import { checkDigitOf } from '../../src/accounts/institution-code.ts';
import { BASE_URL, CAPTCHA, GOOD_PASSWORD, linkOf, type TestPortal } from '../helpers/test-app.ts';
import { focused, field, follow, shown, browserPortal, launchOrSkip, captureScreen } from '../helpers/browser.ts';
import { mailTo, registrationLinkOf, SUBJECTS } from '../helpers/accounts.ts';

const { launched, skip } = await launchOrSkip();

const NEW_PASSWORD = 'Hikari2026Sora';
const REG_PASSWORD = 'Touroku2026Pass';

const heading = (page: Page, name: string, level?: number) =>
  page.getByRole('heading', { name, exact: true, ...(level ? { level } : {}) });

describe('browser: guidance on login, reset and registration in Chromium [sqlite]', { skip }, () => {
  const web = browserPortal(launched, { bypassCSP: true }); // bypassCSP only to inject axe-core
  const { newPage } = web;
  let portal: TestPortal;
  let base: string;
  const a11y: string[] = [];

  const capture = (page: Page, name: string) => captureScreen(page, name, a11y, `guidance-${name}`);
  /** A mailed link, opened on the listening origin (path and query kept). */
  function onServer(link: string): string {
    const u = new URL(link);
    assert.equal(u.origin, BASE_URL);
    return `${base}${u.pathname}${u.search}`;
  }
  async function logInWith(page: Page, username: string, password: string): Promise<void> {
    await field(page, ja['login.username']).fill(username);
    await field(page, ja['login.password']).fill(password);
    await follow(page, page.getByRole('button', { name: ja['login.submit'], exact: true }));
  }

  before(async () => ({ portal, base } = await web.start()));

  after(() => web.close());

  test('F1 F7 W3 W4 C2: three wrong passwords → the rule and its link → reset → 完了 → the username filled in, focus on the password → logged in', async () => {
    await portal.createUser({ username: 'midori-iin', email: 'midori@example.jp', displayName: 'みどり医院' });
    const page = await newPage();
    await page.goto(`${base}/login`);
    const rule = page.getByText(ja['login.lockRule'].replace('{threshold}', '5').replace('{minutes}', '15'), {
      exact: true,
    });
    const alert = page.getByRole('alert');
    for (let n = 1; n <= 3; n++) {
      await logInWith(page, 'midori-iin', `Wrong${n}Pass2026`);
      await shown(alert.getByText(ja['login.failed'], { exact: true }));
      assert.equal(await rule.count(), n >= 3 ? 1 : 0, `the rule is shown from the third failure (now ${n})`);
    }
    await shown(rule);
    await capture(page, '01-login-rule');
    // 「パスワードの再設定」 inside the notice leads to ① 特定.
    await follow(page, alert.getByRole('link', { name: ja['login.forgot'], exact: true }));
    await shown(heading(page, ja['reset.identify.heading'], 2));
    await field(page, ja['reset.username']).fill('midori-iin');
    await field(page, ja['reset.captcha']).fill(CAPTCHA);
    await follow(page, page.getByRole('button', { name: ja['reset.next'], exact: true }));
    await field(page, ja['reset.email']).fill('midori@example.jp');
    await follow(page, page.getByRole('button', { name: ja['reset.next'], exact: true }));
    await shown(heading(page, ja['reset.sent.heading'], 2));
    const mail = await portal.sink.waitFor((m) => m.to.includes('midori@example.jp') && m.subject === SUBJECTS.reset);
    await page.goto(onServer(linkOf(mail)));
    await field(page, ja['reset.newPassword']).fill(NEW_PASSWORD);
    await field(page, ja['reset.confirmPassword']).fill(NEW_PASSWORD);
    await follow(page, page.getByRole('button', { name: ja['reset.submit'], exact: true }));
    await shown(heading(page, ja['reset.done.heading'], 2));

    await follow(page, page.getByRole('link', { name: ja['reset.done.finish'], exact: true }));
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.ok(!page.url().includes('midori'), 'no username in the address bar or history');
    await shown(page.getByText(ja['login.afterReset'], { exact: true }));
    assert.equal(await field(page, ja['login.username']).inputValue(), 'midori-iin', 'W4: filled in');
    assert.equal(await focused(page), `input:${ja['login.password']}`, 'the cursor waits in the password field');
    await capture(page, '02-login-after-reset');
    await page.keyboard.type(NEW_PASSWORD);
    const navigated = page.waitForURL(`${base}/csm`);
    await page.keyboard.press('Enter');
    await navigated;
    await shown(page.getByText(ja['nav.user'].replace('{name}', 'みどり医院'), { exact: true }));
    assert.deepEqual(a11y, [], a11y.join('\n'));
  });

  test('F4 R1: a provisional user types the placeholder at ② and reaches the sent page, whose notice about provisional accounts stands out; no mail', async () => {
    await portal.createUser({ username: 'kari-shika', email: 'kari-shika@07' });
    const page = await newPage();
    await page.goto(`${base}/password-reset`);
    await field(page, ja['reset.username']).fill('kari-shika');
    await field(page, ja['reset.captcha']).fill(CAPTCHA);
    await follow(page, page.getByRole('button', { name: ja['reset.next'], exact: true }));
    await field(page, ja['reset.email']).fill('kari-shika@07');
    await follow(page, page.getByRole('button', { name: ja['reset.next'], exact: true }));
    await shown(heading(page, ja['reset.sent.heading'], 2));
    assert.equal(await page.getByText(ja['reset.emailInvalid']).count(), 0, 'not refused as "not an address"');
    const box = page.getByRole('region', { name: ja['reset.sent.noMailHeading'], exact: true });
    await shown(box);
    for (const key of ['login.notice.lead', 'login.notice.item1', 'login.notice.p1'] as const)
      await shown(box.getByText(ja[key], { exact: true }));
    await shown(box.getByRole('link', { name: ja['top.register'], exact: true }));
    // The box is set apart: a frame thicker than the ordinary notice box's.
    const frame = await box.evaluate((el) => parseFloat(getComputedStyle(el).borderLeftWidth));
    assert.ok(frame >= 6, `a strong frame (${frame}px)`);
    await capture(page, '03-sent-provisional');
    const outcome = (await portal.audit('password_reset.requested')).find((a) => a.identifier === 'kari-shika');
    assert.equal(outcome?.outcome, 'provisional_address');
    assert.equal(portal.sink.mails.filter((m) => m.to.includes('kari-shika')).length, 0);
    assert.deepEqual(a11y, [], a11y.join('\n'));
  });

  test('F5 F8: a protected page → login → back on that page; a used registration link says the registration is complete and leads to the login', async () => {
    await portal.createUser({ username: 'aoba-yakkyoku', displayName: 'あおば薬局' });
    const page = await newPage();
    await page.goto(`${base}/account/password`);
    assert.equal(new URL(page.url()).pathname, '/login');
    await shown(page.getByText(ja['account.loginRequired'], { exact: true }));
    await logInWith(page, 'aoba-yakkyoku', GOOD_PASSWORD);
    assert.equal(new URL(page.url()).pathname, '/account/password', 'back where the person was going');
    await shown(page.getByRole('heading', { level: 1 }));

    // An attacker's link to the login page cannot send anyone elsewhere.
    const other = await newPage();
    await other.goto(`${base}/login?next=${encodeURIComponent('//evil.example/')}`);
    await logInWith(other, 'aoba-yakkyoku', GOOD_PASSWORD);
    assert.equal(new URL(other.url()).origin, base);
    assert.equal(new URL(other.url()).pathname, '/csm');

    const body = `131${String(424242).padStart(6, '0')}`;
    const reg = await newPage();
    await reg.goto(`${base}/register`);
    await reg.getByRole('radio', { name: ja['reg.type.institution'] }).check();
    await field(reg, ja['reg.code']).fill(body + checkDigitOf(body));
    await field(reg, ja['reg.name']).fill('わかば内科');
    await field(reg, ja['reg.contact']).fill('若葉 花子');
    await field(reg, ja['reg.email']).fill('wakaba@example.jp');
    await field(reg, ja['reg.phone']).fill('03-5555-1234');
    await field(reg, ja['reset.captcha']).fill(CAPTCHA);
    await follow(reg, reg.getByRole('button', { name: ja['reg.submit'], exact: true }));
    await shown(heading(reg, ja['reg.sent.heading'], 1));
    const link = onServer(registrationLinkOf(await mailTo(portal, 'wakaba@example.jp', SUBJECTS.verify)));
    await reg.goto(link);
    await field(reg, ja['reset.newPassword']).fill(REG_PASSWORD);
    await field(reg, ja['reset.confirmPassword']).fill(REG_PASSWORD);
    await follow(reg, reg.getByRole('button', { name: ja['reg.verify.submit'], exact: true }));
    await shown(heading(reg, ja['reg.done.heading'], 1));

    // The mail's link again, days later: complete, log in — not 「ユーザー登録をやり直す」.
    await reg.goto(link);
    await shown(heading(reg, ja['reg.link.doneHeading'], 1));
    await shown(reg.getByText(ja['reg.link.done'], { exact: true }));
    assert.equal(await reg.getByRole('link', { name: ja['reg.restart'] }).count(), 0);
    await capture(reg, '04-used-registration-link');
    await follow(reg, reg.getByRole('link', { name: ja['reg.done.toLogin'], exact: true }));
    assert.equal(new URL(reg.url()).pathname, '/login');
    assert.deepEqual(a11y, [], a11y.join('\n'));
  });
});
