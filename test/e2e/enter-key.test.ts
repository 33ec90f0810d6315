/**
 * Enter does what the person means (issue 11 §1), in a real browser on every form of the portal and its console:
 * on each page, Enter is pressed in every text field of every form, and the button the browser submits with (the
 * form's default button, SubmitEvent.submitter) must be the form's main action — 「次へ」, never 「↻ 別の文字を表示」.
 * Those probing presses are cancelled before they leave the page; then the journey itself goes on by pressing Enter
 * in a field, and the next screen shows that the main action really ran.
 *
 * The content editors' default is 「プレビュー」 on purpose: Enter in a title shows the preview and saves nothing, so
 * an unfinished お知らせ is never published by a stray Enter (publishing stays a deliberate press of 「公開する」).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { ja } from '../../src/web/i18n/ja.ts';
import { BASE_URL, CAPTCHA, linkOf, pathOf, type TestPortal } from '../helpers/test-app.ts';
import { createOperator } from '../helpers/operators.ts';
import { mailTo, namesIn, register, registrationLinkOf, SUBJECTS } from '../helpers/accounts.ts';
import { field, screenshot, shown, WAIT, browserPortal, launchOrSkip } from '../helpers/browser.ts';

const { launched, skip } = await launchOrSkip();

const PASSWORD = 'Kagi2026Pass';
const NEW_PASSWORD = 'Kagi2026Next';

const heading = (page: Page, name: string, level?: number) =>
  page.getByRole('heading', { name, exact: true, ...(level ? { level } : {}) });

/** What a form's Enter must press: a button text, or 'primary' for the form's own .button--primary (console action boxes). */
type Expected = Record<string, string | 'primary'>;

/**
 * Presses Enter in every visible, editable text field of every form on the page and returns one line per field:
 * `form-path › field-label → button text`, or a line starting with ✗ when the button is not the expected one. Each
 * submission is cancelled (and the form's own validation set aside) so that the page stays as it is.
 */
async function enterInEveryField(page: Page, expected: Expected): Promise<string[]> {
  await page.evaluate(() => {
    const w = window as any;
    w.__submits = [];
    w.__record = (e: SubmitEvent) => {
      const form = e.target as HTMLFormElement;
      const s = e.submitter as HTMLElement | null;
      const primary = form.querySelector('[type="submit"].button--primary, button:not([type]).button--primary');
      w.__submits.push({
        button: s ? (s.textContent ?? '').trim() : '(none)',
        primary: s !== null && s === primary,
        primaryText: primary ? (primary.textContent ?? '').trim() : '',
      });
      e.preventDefault();
    };
    document.addEventListener('submit', w.__record, true);
    w.__novalidate = [...document.forms].map((f) => f.noValidate);
    for (const f of document.forms) f.noValidate = true;
  });
  const inputs = page.locator(
    'form input:not([type="hidden"]):not([type="checkbox"]):not([type="radio"]):not([type="submit"]):not([type="button"]):not([readonly])',
  );
  const lines: string[] = [];
  const count = await inputs.count();
  for (let i = 0; i < count; i++) {
    const input = inputs.nth(i);
    if (!(await input.isVisible())) continue;
    const { action, label } = await input.evaluate((el: HTMLInputElement) => ({
      // getAttribute: a control named "action" (the buttons of ① and the editors) shadows form.action.
      action: new URL(el.form!.getAttribute('action') ?? '', document.baseURI).pathname,
      label: (el.labels?.[0]?.childNodes[0]?.textContent ?? el.name).trim(),
    }));
    const before = await page.evaluate(() => (window as any).__submits.length as number);
    await input.focus();
    await input.press('Enter');
    const got = (await page.evaluate((n) => (window as any).__submits.slice(n), before)) as Array<{
      button: string;
      primary: boolean;
      primaryText: string;
    }>;
    const key = Object.keys(expected).find((k) => new RegExp(`^${k}$`).test(action));
    const want = key === undefined ? undefined : expected[key];
    const pressed =
      got.length === 1 ? got[0]!.button : got.length === 0 ? '(nothing submitted)' : `(${got.length} submissions)`;
    const ok =
      got.length === 1 && want !== undefined && (want === 'primary' ? got[0]!.primary : got[0]!.button === want);
    lines.push(
      `${ok ? '' : '✗ '}${action} › ${label} → ${pressed}${ok ? '' : ` (expected ${want === 'primary' ? (got[0]?.primaryText ?? 'the primary button') : (want ?? 'an expectation for this form')})`}`,
    );
  }
  await page.evaluate(() => {
    const w = window as any;
    document.removeEventListener('submit', w.__record, true);
    [...document.forms].forEach((f, i) => {
      f.noValidate = w.__novalidate[i];
    });
  });
  assert.ok(lines.length > 0, `no text field on ${page.url()}`);
  return lines;
}

/** Presses Enter in a field for real and waits for the next page. */
async function enterFor(page: Page, input: Locator): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: WAIT });
  await input.press('Enter');
  await navigated;
  await page.waitForLoadState('load');
}

describe("browser: Enter in every field presses the form's main action [sqlite]", { skip }, () => {
  const web = browserPortal(launched);
  const { newPage } = web;
  let portal: TestPortal;
  let base: string;
  const report: string[] = [];

  const onServer = (link: string) => {
    const u = new URL(link);
    assert.equal(u.origin, BASE_URL);
    return `${base}${u.pathname}${u.search}`;
  };
  async function check(page: Page, expected: Expected): Promise<void> {
    const lines = await enterInEveryField(page, expected);
    report.push(...lines);
    const wrong = lines.filter((l) => l.startsWith('✗'));
    assert.deepEqual(wrong, [], `${page.url()}\n${lines.join('\n')}`);
  }

  before(async () => ({ portal, base } = await web.start()));

  after(async () => {
    if (report.length) console.log(`Enter, field by field:\n${report.join('\n')}`);
    await web.close();
  });

  test('E1 W3: /register and its password step, login, アカウント情報 (e-mail, password), FAQ search, and ① ② ③ of the reset', async () => {
    const page = await newPage();

    // 新規ユーザー登録: every field (and the CAPTCHA) submits 「確認メールを送信」, never 「別の文字を表示」.
    await page.goto(`${base}/register`);
    await check(page, { '/register': ja['reg.submit'], '/logout': ja['nav.logout'] });
    await page.getByRole('radio', { name: ja['reg.type.institution'] }).check();
    await field(page, ja['reg.code']).fill('3410712362');
    await field(page, ja['reg.name']).fill('エンター内科');
    await field(page, ja['reg.contact']).fill('鍵 太郎');
    await field(page, ja['reg.email']).fill('enter@example.jp');
    await field(page, ja['reg.phone']).fill('03-1234-5678');
    await field(page, ja['reset.captcha']).fill(CAPTCHA);
    await enterFor(page, field(page, ja['reg.name']));
    await shown(heading(page, ja['reg.sent.heading'], 1));

    // The password step of the registration.
    await page.goto(onServer(registrationLinkOf(await mailTo(portal, 'enter@example.jp', SUBJECTS.verify))));
    await shown(heading(page, ja['reg.verify.heading'], 1));
    await check(page, { '/register/verify': ja['reg.verify.submit'] });
    await field(page, ja['reset.newPassword']).fill(PASSWORD);
    await field(page, ja['reset.confirmPassword']).fill(PASSWORD);
    await enterFor(page, field(page, ja['reset.newPassword']));
    await shown(heading(page, ja['reg.done.heading'], 1)).catch(async (e) => {
      throw new Error(`${e.message}\n${await page.getByRole('main').innerText()}`);
    });
    const { username } = namesIn(await page.getByRole('main').innerText());
    assert.ok(username);

    // Login.
    await page.goto(`${base}/login`);
    await check(page, { '/login': ja['login.submit'] });
    await field(page, ja['login.username']).fill(username!);
    await field(page, ja['login.password']).fill(PASSWORD);
    await enterFor(page, field(page, ja['login.username']));
    assert.equal(new URL(page.url()).pathname, '/csm');
    await shown(page.getByText(ja['top.welcome'].replace('{name}', '鍵 太郎'), { exact: true }));

    // アカウント情報: change e-mail (the mail goes out) and change password.
    await page.goto(`${base}/account/email`);
    await check(page, { '/account/email': ja['account.email.submit'], '/logout': ja['nav.logout'] });
    await field(page, ja['account.email.new']).fill('enter-new@example.jp');
    await field(page, ja['account.password.current']).fill(PASSWORD);
    await enterFor(page, field(page, ja['account.email.new']));
    await shown(
      page.getByText(
        ja['account.email.sent']
          .replace('{email}', 'enter-new@example.jp')
          .replace('{confirm}', ja['account.email.confirmSubmit']),
        { exact: true },
      ),
    );
    await page.goto(`${base}/account/password`);
    await check(page, { '/account/password': ja['account.password.submit'], '/logout': ja['nav.logout'] });
    await field(page, ja['account.password.current']).fill(PASSWORD);
    await field(page, ja['reset.newPassword']).fill(NEW_PASSWORD);
    await field(page, ja['reset.confirmPassword']).fill(NEW_PASSWORD);
    await enterFor(page, field(page, ja['reset.confirmPassword']));
    assert.notEqual(
      new URL(page.url()).pathname,
      '/account/password',
      `the change went through: ${await page.getByRole('main').innerText()}`,
    );

    // よくある質問: Enter searches.
    await page.goto(`${base}/csm/faq`);
    await check(page, { '/csm/faq': ja['content.faq.searchSubmit'], '/logout': ja['nav.logout'] });
    await field(page, ja['content.faq.search']).fill('ロック');
    await enterFor(page, field(page, ja['content.faq.search']));
    await shown(page.getByRole('status').filter({ hasText: 'ロック' }));

    // The reset, in a fresh context (logged out): ① 「次へ」 (not the redraw), ② 「次へ」 (not 「戻る」), ③ 「パスワードのリセット」.
    const reset = await newPage();
    await reset.goto(`${base}/password-reset`);
    await check(reset, { '/password-reset': ja['reset.next'] });
    await field(reset, ja['reset.username']).fill(username!);
    await field(reset, ja['reset.captcha']).fill(CAPTCHA);
    await enterFor(reset, field(reset, ja['reset.username']));
    await shown(heading(reset, ja['reset.verify.heading'], 2));
    await check(reset, { '/password-reset': ja['reset.next'] });
    await field(reset, ja['reset.email']).fill('enter@example.jp');
    await enterFor(reset, field(reset, ja['reset.email']));
    await shown(heading(reset, ja['reset.sent.heading'], 2));
    const mail = await portal.sink.waitFor(
      (m) => m.to.includes('enter@example.jp') && m.subject.includes('パスワード変更用URL'),
    );
    await reset.goto(onServer(linkOf(mail)));
    await shown(heading(reset, ja['reset.reset.heading'], 2));
    await check(reset, { '/passwordreset.do': ja['reset.submit'] });
    await field(reset, ja['reset.newPassword']).fill('Kagi2026Third');
    await field(reset, ja['reset.confirmPassword']).fill('Kagi2026Third');
    await enterFor(reset, field(reset, ja['reset.newPassword']));
    await shown(heading(reset, ja['reset.done.heading'], 2));
    await screenshot(reset, 'enter-01-reset-done');
  });

  test('E1 W3: the console — login, account search, the action boxes with their reasons, the audit search, and the editors (preview)', async () => {
    const user = await portal.createUser({
      username: 'enter-clinic',
      email: 'enter-clinic@example.jp',
      displayName: 'エンター薬局',
    });
    const op = await createOperator(portal, 'admin', 'enter-admin', '鍵盤管理者');
    const page = await newPage();

    await page.goto(`${base}/admin/login`);
    await check(page, { '/admin/login': ja['admin.login.submit'] });
    await field(page, ja['admin.login.username']).fill(op.username);
    await field(page, ja['admin.login.password']).fill(op.password);
    await enterFor(page, field(page, ja['admin.login.password']));
    assert.equal(new URL(page.url()).pathname, '/admin');

    await page.goto(`${base}/admin/users`);
    await check(page, { '/admin/users': ja['admin.users.submit'], '/admin/logout': 'primary' });
    await field(page, ja['admin.users.search']).fill('enter-clinic');
    await enterFor(page, field(page, ja['admin.users.search']));
    await shown(page.getByRole('link', { name: 'enter-clinic', exact: true }));

    // One failed login, so that the unlock box is there too beside 「送る」 and 「誤りとして扱う」.
    await portal.database.db.updateTable('users').set({ failed_logins: 1 }).where('id', '=', user.id).execute();
    await page.goto(`${base}/admin/users/${user.id}`);
    await check(page, {
      [`/admin/users/${user.id}/unlock`]: ja['admin.user.unlock'],
      [`/admin/users/${user.id}/lock`]: ja['admin.user.lock'],
      [`/admin/users/${user.id}/send-reset`]: ja['admin.user.sendReset'],
      [`/admin/users/${user.id}/mark-email-wrong`]: ja['admin.user.markWrong'],
      '/admin/logout': 'primary',
    });
    assert.ok(
      report.some((l) => l.startsWith(`/admin/users/${user.id}/unlock`)),
      'the unlock box was probed',
    );
    await page
      .getByLabel(new RegExp(`^${ja['admin.reason']}`))
      .first()
      .fill('電話でご本人確認のうえ解除');
    await enterFor(page, page.getByLabel(new RegExp(`^${ja['admin.reason']}`)).first());
    assert.deepEqual(
      (await portal.audit()).filter((a) => a.event.startsWith('support.unlock')).map((a) => a.outcome),
      ['ok'],
      'Enter in the reason unlocked the account',
    );

    // A registration for a code held by a provisional account waits for the call-back: 承認 and 却下 each submit their own.
    await portal.createUser({
      username: 'enter-kari',
      email: 'enter-kari@31',
      institutionCode: '2714001233',
      institutionName: '旧エンター歯科',
      phone: '06-1234-5678',
    });
    const applicant = portal.client();
    assert.equal(
      (await register(applicant, { code: '2714001233', name: 'エンター歯科', email: 'enter-case@example.jp' })).status,
      200,
    );
    await applicant.open(pathOf(registrationLinkOf(await mailTo(portal, 'enter-case@example.jp', SUBJECTS.verify))));
    await applicant.submit({ password: 'Shika2026Pass', confirm: 'Shika2026Pass' });
    const { id: caseId } = await portal.database.db
      .selectFrom('registration_cases')
      .select('id')
      .executeTakeFirstOrThrow();
    await page.goto(`${base}/admin/registration-cases/${caseId}`);
    await check(page, {
      [`/admin/registration-cases/${caseId}/approve`]: ja['admin.cases.approve'],
      [`/admin/registration-cases/${caseId}/reject`]: ja['admin.cases.reject'],
      '/admin/logout': 'primary',
    });

    await page.goto(`${base}/admin/audit`);
    await check(page, { '/admin/audit': ja['admin.audit.submit'], '/admin/logout': 'primary' });
    await field(page, ja['admin.audit.account']).fill('enter-clinic');
    await enterFor(page, field(page, ja['admin.audit.event']));
    assert.equal(
      new URL(page.url()).searchParams.get('account'),
      'enter-clinic',
      'the search ran with the typed account',
    );

    for (const path of ['/admin/news/new', '/admin/faq/new', '/admin/pages/contact']) {
      await page.goto(`${base}${path}`);
      await check(page, { [path]: ja['admin.content.preview'], '/admin/logout': 'primary' });
    }
    await page.goto(`${base}/admin/news/new`);
    await field(page, ja['admin.news.titleJa']).fill('エンターで確認');
    await page.getByLabel(new RegExp(`^${ja['admin.news.bodyJa']}`)).fill('本文');
    await enterFor(page, field(page, ja['admin.news.titleJa']));
    await shown(heading(page, ja['admin.content.previewHeading'], 2));
    const stored = await portal.database.db
      .selectFrom('news')
      .select('id')
      .where('title_ja', '=', 'エンターで確認')
      .execute();
    assert.deepEqual(stored, [], 'Enter previewed: nothing was saved or published');
  });
});
