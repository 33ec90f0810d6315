/**
 * Accounts in a real browser (issue 3): 新規ユーザー登録 from the top page to the first login, and a provisional
 * account replacing its placeholder address — walked by visible texts and labels, axe-core on every screen,
 * full-page screenshots test-results/accounts-NN-*.png. The server is started as in reset-journey.test.ts
 * (BASE_URL kept, listening on localhost, mailed links moved onto the listening origin).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { ja } from '../../src/web/i18n/ja.ts';
import { BASE_URL, CAPTCHA, GOOD_PASSWORD, type TestPortal } from '../helpers/test-app.ts';
import { field, follow, shown, tileName, browserPortal, launchOrSkip, captureScreen } from '../helpers/browser.ts';
import { emailLinkOf, mailTo, namesIn, registrationLinkOf, SUBJECTS } from '../helpers/accounts.ts';
import { createOperator } from '../helpers/operators.ts';

const { launched, skip } = await launchOrSkip();

const PASSWORD = 'Touroku2026Pass';

const heading = (page: Page, name: string, level?: number) =>
  page.getByRole('heading', { name, exact: true, ...(level ? { level } : {}) });
/** The error block tied to a field by aria-describedby. */
async function errorsOf(input: Locator): Promise<string> {
  const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(' ').filter((id) => id.endsWith('-error'));
  assert.equal(ids.length, 1, 'the error is tied to the field (W1)');
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  return input.page().locator(`[id="${ids[0]}"]`).innerText();
}

describe('browser: accounts in Chromium [sqlite]', { skip }, () => {
  const web = browserPortal(launched, { bypassCSP: true }); // bypassCSP only to inject axe-core
  const { newPage } = web;
  let portal: TestPortal;
  let base: string;

  /** A mailed link, opened on the listening origin (path and query kept). */
  function onServer(link: string): string {
    const u = new URL(link);
    assert.equal(u.origin, BASE_URL);
    return `${base}${u.pathname}${u.search}`;
  }

  before(async () => ({ portal, base } = await web.start()));

  after(() => web.close());

  test('W1 W3 issue3-1: top → 新規ユーザー登録 → errors named by field → sent → mail → パスワードの設定 → ユーザー名 → first login', async () => {
    const page = await newPage();
    const a11y: string[] = [];
    const capture = (name: string) => captureScreen(page, name, a11y, `accounts-${name}`);

    await page.goto(`${base}/csm`);
    await follow(
      page,
      page.getByRole('main').getByRole('link', { name: tileName(ja['top.register'], ja['top.registerSub']) }),
    );
    assert.match(page.url(), /\/register\?flow=/);
    await shown(heading(page, ja['reg.title'], 1));
    await capture('01-register-form');

    // The radio buttons sit next to their text (not stretched like text fields).
    for (const name of [ja['reg.type.institution'], ja['reg.type.coordinator']]) {
      const box = await page.getByRole('radio', { name }).boundingBox();
      assert.ok(box && box.width < 40, `the radio of ${name} is ${box?.width}px wide`);
    }
    // A wrong code and no phone: each failure is named next to its field, what was typed is kept.
    await page.getByRole('radio', { name: ja['reg.type.institution'] }).check();
    await field(page, ja['reg.code']).fill('3410712363');
    await field(page, ja['reg.name']).fill('みなと内科クリニック');
    await field(page, ja['reg.contact']).fill('港 太郎');
    await field(page, ja['reg.email']).fill('minato@example.jp');
    await field(page, ja['reset.captcha']).fill(CAPTCHA);
    await follow(page, page.getByRole('button', { name: ja['reg.submit'], exact: true }));
    await shown(page.getByRole('alert').filter({ hasText: ja['form.errorSummary'] }));
    assert.equal((await errorsOf(field(page, ja['reg.code']))).trim(), ja['reg.code.checkDigit']);
    assert.equal(
      (await errorsOf(field(page, ja['reg.phone']))).trim(),
      ja['reg.required'].replace('{label}', ja['reg.phone']),
    );
    assert.equal(await field(page, ja['reg.name']).inputValue(), 'みなと内科クリニック');
    assert.equal(await field(page, ja['reset.captcha']).inputValue(), '', 'a new CAPTCHA is to be answered');
    await capture('02-register-errors');

    await field(page, ja['reg.code']).fill('3410712362');
    await field(page, ja['reg.phone']).fill('03-1234-5678');
    await field(page, ja['reset.captcha']).fill(CAPTCHA);
    await follow(page, page.getByRole('button', { name: ja['reg.submit'], exact: true }));
    await shown(heading(page, ja['reg.sent.heading'], 1));
    await capture('03-register-sent');

    const verify = await mailTo(portal, 'minato@example.jp', SUBJECTS.verify);
    await page.goto(onServer(registrationLinkOf(verify)));
    assert.doesNotMatch(page.url(), /token=/, 'the token has left the address bar');
    await shown(heading(page, ja['reg.verify.heading'], 1));
    await shown(page.getByText('みなと内科クリニック', { exact: true }));
    await shown(page.getByText(ja['policy.rule.portal']));
    await field(page, ja['reset.newPassword']).fill(PASSWORD);
    await field(page, ja['reset.confirmPassword']).fill(PASSWORD);
    await capture('04-set-password');
    await follow(page, page.getByRole('button', { name: ja['reg.verify.submit'], exact: true }));

    await shown(heading(page, ja['reg.done.heading'], 1));
    const { username } = namesIn(await page.getByRole('main').innerText());
    assert.match(username ?? '', /^[a-z]{4}-\d{4}$/);
    const complete = await mailTo(portal, 'minato@example.jp', SUBJECTS.complete);
    assert.equal(namesIn(complete.text).username, username, 'the mail gives the same ユーザー名');
    await capture('05-register-done');

    await follow(page, page.getByRole('link', { name: ja['reg.done.toLogin'], exact: true }));
    assert.equal(new URL(page.url()).pathname, '/login');
    await field(page, ja['login.username']).fill(username!);
    await field(page, ja['login.password']).fill(PASSWORD);
    await follow(page, page.getByRole('button', { name: ja['login.submit'], exact: true }));
    assert.equal(new URL(page.url()).pathname, '/csm');
    await shown(page.getByText(ja['top.welcome'].replace('{name}', '港 太郎'), { exact: true }));
    await capture('06-first-login');

    await page.goto(`${base}/account`);
    await shown(heading(page, ja['account.title'], 1));
    await shown(page.getByText(username!, { exact: true }));
    await shown(page.getByRole('cell', { name: ja['event.login.ok'], exact: true }));
    await capture('07-account');

    assert.deepEqual(a11y, [], a11y.join('\n'));
  });

  test('W1 W3 issue3-3: a provisional account logs in, must give a real address, confirms it by link, then reaches the portal', async () => {
    await portal.createUser({ username: 'kari-yakkyoku', email: 'kari@13', displayName: '仮 薬局' });
    const page = await newPage();
    const a11y: string[] = [];
    const capture = (name: string) => captureScreen(page, name, a11y, `accounts-${name}`);

    await page.goto(`${base}/login`);
    await field(page, ja['login.username']).fill('kari-yakkyoku');
    await field(page, ja['login.password']).fill(GOOD_PASSWORD);
    await follow(page, page.getByRole('button', { name: ja['login.submit'], exact: true }));
    assert.equal(new URL(page.url()).pathname, '/account/email');
    await shown(heading(page, ja['account.provisional.heading'], 1));
    await shown(page.getByText(ja['account.provisional.p1'].replace('{email}', 'kari@13'), { exact: true }));
    await capture('10-provisional-gate');

    // The top page is not reachable yet.
    await page.goto(`${base}/csm`);
    assert.equal(new URL(page.url()).pathname, '/account/email');

    await field(page, ja['account.email.new']).fill('kari@14');
    await field(page, ja['account.password.current']).fill(GOOD_PASSWORD);
    await follow(page, page.getByRole('button', { name: ja['account.email.submit'], exact: true }));
    assert.equal((await errorsOf(field(page, ja['account.email.new']))).trim(), ja['reset.emailInvalid']);
    await capture('11-provisional-error');

    await field(page, ja['account.email.new']).fill('hontou@example.jp');
    // Re-authentication (V3): the current password is asked again with every attempt.
    await field(page, ja['account.password.current']).fill(GOOD_PASSWORD);
    await follow(page, page.getByRole('button', { name: ja['account.email.submit'], exact: true }));
    await shown(
      page.getByText(
        ja['account.email.sent']
          .replace('{email}', 'hontou@example.jp')
          .replace('{confirm}', ja['account.email.confirmSubmit']),
        { exact: true },
      ),
    );
    await capture('12-provisional-sent');

    const mail = await mailTo(portal, 'hontou@example.jp', SUBJECTS.emailVerify);
    await page.goto(onServer(emailLinkOf(mail)));
    assert.doesNotMatch(page.url(), /token=/);
    await shown(heading(page, ja['account.email.confirmHeading'], 1));
    await capture('13-provisional-confirm');
    await follow(page, page.getByRole('button', { name: ja['account.email.confirmSubmit'], exact: true }));
    await shown(page.getByText(ja['account.email.done'], { exact: true }));
    await capture('14-provisional-done');

    await follow(page, page.getByRole('link', { name: ja['account.back'], exact: true }));
    assert.equal(new URL(page.url()).pathname, '/account');
    await shown(page.getByText('hontou@example.jp', { exact: true }));
    await shown(page.getByRole('cell', { name: ja['event.email.changed'], exact: true }));
    await capture('15-provisional-account');
    await page.goto(`${base}/csm`);
    assert.equal(new URL(page.url()).pathname, '/csm');
    await shown(page.getByText(ja['top.welcome'].replace('{name}', '仮 薬局'), { exact: true }));

    assert.deepEqual(a11y, [], a11y.join('\n'));
  });

  test('V5 V6 W3: a registration for a code held by a provisional account waits; the call center calls back and approves it in the console', async () => {
    await portal.createUser({
      username: 'kari-shika',
      email: 'kari-shika@22',
      institutionCode: '2714001233',
      institutionName: 'なにわ歯科（旧）',
      displayName: '旧 担当',
      phone: '06-1234-5678',
    });
    const op = await createOperator(portal, 'support', 'cc-browser', 'コールセンター山田');
    const page = await newPage();
    const a11y: string[] = [];
    const capture = (name: string) => captureScreen(page, name, a11y, `accounts-${name}`);

    await page.goto(`${base}/register`);
    await page.getByRole('radio', { name: ja['reg.type.institution'] }).check();
    await field(page, ja['reg.code']).fill('2714001233');
    await field(page, ja['reg.name']).fill('なにわ歯科医院');
    await field(page, ja['reg.contact']).fill('浪速 花子');
    await field(page, ja['reg.email']).fill('naniwa@example.jp');
    await field(page, ja['reg.phone']).fill('090-1111-2222');
    await field(page, ja['reset.captcha']).fill(CAPTCHA);
    await follow(page, page.getByRole('button', { name: ja['reg.submit'], exact: true }));
    await shown(heading(page, ja['reg.sent.heading'], 1));

    await page.goto(onServer(registrationLinkOf(await mailTo(portal, 'naniwa@example.jp', SUBJECTS.verify))));
    await shown(page.getByText(ja['reg.case.verifyNote'], { exact: true }));
    await field(page, ja['reset.newPassword']).fill(PASSWORD);
    await field(page, ja['reset.confirmPassword']).fill(PASSWORD);
    await capture('20-case-set-password');
    await follow(page, page.getByRole('button', { name: ja['reg.verify.submit'], exact: true }));
    await shown(heading(page, ja['reg.case.heading'], 1));
    await capture('21-case-received');
    await mailTo(portal, 'naniwa@example.jp', SUBJECTS.casePending);

    const desk = await newPage();
    const deskShot = (name: string) => captureScreen(desk, name, a11y, `accounts-${name}`);
    await desk.goto(`${base}/admin/login`);
    await field(desk, ja['admin.login.username']).fill(op.username);
    await field(desk, ja['admin.login.password']).fill(op.password);
    await follow(desk, desk.getByRole('button', { name: ja['admin.login.submit'], exact: true }));
    const nav = desk.getByRole('navigation', { name: ja['admin.nav.label'] });
    await follow(
      desk,
      nav.getByRole('link', {
        name: `${ja['admin.nav.cases']}${ja['admin.nav.count'].replace('{n}', '1')}`,
        exact: true,
      }),
    );
    await shown(desk.getByRole('row').filter({ hasText: 'なにわ歯科医院' }));
    await deskShot('22-console-cases');
    await follow(desk, desk.getByRole('link', { name: ja['admin.cases.open'], exact: true }));
    await shown(desk.getByText(ja['admin.cases.callBack'].replace('{phone}', '06-1234-5678'), { exact: true }));
    await shown(desk.getByRole('row').filter({ hasText: '浪速 花子' }).filter({ hasText: '旧 担当' }));
    // Approving without the checklist is refused, with the reason named under it.
    await desk.locator('#reason-approve').fill('06-1234-5678 に折り返し、院長が申込を確認');
    await follow(desk, desk.getByRole('button', { name: ja['admin.cases.approve'], exact: true }));
    // The error summary links to the checklist (Q1) and the same message stands under it (W1).
    await shown(desk.getByRole('link', { name: ja['admin.cases.checksRequired'], exact: true }));
    await shown(desk.locator('#checks-error').getByText(ja['admin.cases.checksRequired'], { exact: true }));
    await deskShot('23-console-case-refused');
    for (const k of ['admin.cases.check.called', 'admin.cases.check.institution', 'admin.cases.check.contact'] as const)
      await desk.getByRole('checkbox', { name: ja[k] }).check();
    await desk.locator('#reason-approve').fill('06-1234-5678 に折り返し、院長が申込を確認');
    await follow(desk, desk.getByRole('button', { name: ja['admin.cases.approve'], exact: true }));
    await shown(desk.getByText(ja['admin.cases.approved'], { exact: true }));
    await deskShot('24-console-case-approved');

    const { username } = namesIn((await mailTo(portal, 'naniwa@example.jp', SUBJECTS.complete)).text);
    await page.goto(`${base}/login`);
    await field(page, ja['login.username']).fill(username!);
    await field(page, ja['login.password']).fill(PASSWORD);
    await follow(page, page.getByRole('button', { name: ja['login.submit'], exact: true }));
    await shown(page.getByText(ja['top.welcome'].replace('{name}', '浪速 花子'), { exact: true }));
    assert.deepEqual(a11y, [], a11y.join('\n'));
  });
});
