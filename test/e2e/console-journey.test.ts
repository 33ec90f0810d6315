/**
 * The operators' console in a real browser (Debian's Chromium, playwright-core), walked by visible texts and labels,
 * with axe-core on every console screen and a full-page screenshot of each under test-results/console-NN-*.png:
 * a call-center operator finds the account whose reset went to a provisional address and sees why no mail went
 * out; an editor previews and publishes an お知らせ that then shows on the top page.
 *
 * The portal keeps the test BASE_URL (https), so the console cookie is __Host-asid/Secure; the browser uses
 * http://localhost:PORT, which Chromium treats as a secure context (see reset-journey.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ja } from '../../src/web/i18n/ja.ts';
import { requestReset, type TestPortal } from '../helpers/test-app.ts';
import { createOperator } from '../helpers/operators.ts';
import { field, follow, shown, browserPortal, launchOrSkip, captureScreen } from '../helpers/browser.ts';

const { launched, skip } = await launchOrSkip();

const heading = (page: Page, name: string, level?: number) =>
  page.getByRole('heading', { name, exact: true, ...(level ? { level } : {}) });
const menu = (page: Page) => page.getByRole('navigation', { name: ja['admin.nav.label'] });

describe("browser: the operators' console in Chromium [sqlite]", { skip }, () => {
  const web = browserPortal(launched, { viewport: { width: 1200, height: 800 }, bypassCSP: true }); // bypassCSP only to inject axe-core
  const { newPage } = web;
  let portal: TestPortal;
  let base: string;
  const a11y: string[] = [];

  const capture = (page: Page, name: string) => captureScreen(page, name, a11y, `console-${name}`);

  async function consoleLogin(page: Page, username: string, password: string, shot?: string): Promise<void> {
    await page.goto(`${base}/admin`);
    assert.equal(new URL(page.url()).pathname, '/admin/login', 'not logged in → the console login page');
    await shown(heading(page, ja['admin.login.title'], 1));
    await field(page, ja['admin.login.username']).fill(username);
    await field(page, ja['admin.login.password']).fill(password);
    if (shot) await capture(page, shot);
    await follow(page, page.getByRole('button', { name: ja['admin.login.submit'], exact: true }));
    assert.equal(new URL(page.url()).pathname, '/admin');
  }

  before(async () => ({ portal, base } = await web.start()));

  after(() => web.close());

  test('issue4-2 W3: a call-center operator finds the account whose reset went to a provisional address and sees the reason', async () => {
    await portal.createUser({
      username: 'kari-clinic',
      email: 'kari-clinic@13',
      displayName: 'かり診療所',
      institutionCode: '1310123458',
    });
    await requestReset(portal.client(), 'kari-clinic', 'kari-clinic@example.jp');
    const op = await createOperator(portal, 'support', 'cc-browser', 'コールセンター田中');

    const page = await newPage();
    await consoleLogin(page, op.username, op.password, '01-login');
    await shown(
      menu(page).getByText(
        ja['admin.operator'].replace('{name}', op.displayName).replace('{role}', ja['admin.role.support']),
        { exact: true },
      ),
    );
    await capture(page, '02-home');

    await follow(page, menu(page).getByRole('link', { name: ja['admin.nav.users'], exact: true }));
    await field(page, ja['admin.users.search']).fill('1310123458');
    await follow(page, page.getByRole('main').getByRole('button', { name: ja['admin.users.submit'], exact: true }));
    const result = page.getByRole('row').filter({ hasText: 'kari-clinic@13' });
    await shown(result.getByText(ja['admin.status.provisional'], { exact: true }));
    await capture(page, '03-search');

    await follow(page, result.getByRole('link', { name: 'kari-clinic', exact: true }));
    await shown(heading(page, ja['admin.user.heading'].replace('{login}', 'kari-clinic'), 1));
    await shown(page.getByRole('definition').filter({ hasText: ja['admin.status.provisional'] }));
    // The reason the user got no mail, in the reset attempts table: a sentence to read out, no event code (Q1).
    await shown(
      page.getByRole('cell', { name: ja['audit.password_reset.requested.provisional_address'], exact: true }),
    );
    assert.equal(await page.getByText('password_reset.requested').count(), 0, 'no event code on the account page');
    await shown(page.getByText(ja['admin.user.cannotSend'], { exact: true }));
    assert.equal(
      await page.getByRole('button', { name: ja['admin.user.sendReset'] }).count(),
      0,
      'no send-reset for a provisional address',
    );
    await capture(page, '04-account');

    // Q6 W1: an action without its reason: the error summary takes the focus, and its link leads to the field.
    await follow(page, page.getByRole('button', { name: ja['admin.user.lock'], exact: true }));
    const summary = page.getByRole('alert').filter({ hasText: ja['form.errorSummary'] });
    await shown(summary);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'error-summary', 'focus on the error summary');
    await summary.getByRole('link', { name: ja['admin.reasonRequired'], exact: true }).click();
    assert.equal(
      await page.evaluate(() => document.activeElement?.id),
      'reason-lock',
      'the link moves to the reason field',
    );
    await capture(page, '04b-account-error');

    await follow(page, menu(page).getByRole('link', { name: ja['admin.nav.mail'], exact: true }));
    await shown(heading(page, ja['admin.mail.heading'], 1));
    await capture(page, '05-mail');
    await follow(page, menu(page).getByRole('link', { name: ja['admin.nav.audit'], exact: true }));
    await field(page, ja['admin.audit.account']).fill('kari-clinic');
    await follow(page, page.getByRole('main').getByRole('button', { name: ja['admin.audit.submit'], exact: true }));
    const row = page
      .getByRole('row')
      .filter({ hasText: ja['audit.password_reset.requested.provisional_address'] })
      .first();
    await shown(row.getByRole('cell', { name: 'kari-clinic', exact: true }));
    await capture(page, '06-audit');

    // An editor's screen is not for the call center.
    const refused = await page.goto(`${base}/admin/news`);
    assert.equal(refused?.status(), 403);
    await shown(page.getByText(ja['admin.forbidden'], { exact: true }));
    assert.deepEqual(a11y, [], a11y.join('\n'));
  });

  test('issue4-5 W3: an editor previews and publishes an important お知らせ, which then shows on the top page', async () => {
    const op = await createOperator(portal, 'editor', 'ed-browser', '広報担当');
    const title = '電子処方箋管理サービスのメンテナンスについて';
    const page = await newPage();
    await consoleLogin(page, op.username, op.password);
    assert.equal(
      await menu(page).getByRole('link', { name: ja['admin.nav.users'], exact: true }).count(),
      0,
      'no call-center menu for an editor',
    );

    await follow(page, menu(page).getByRole('link', { name: ja['admin.nav.news'], exact: true }));
    await capture(page, '07-news-list');
    await follow(page, page.getByRole('link', { name: ja['admin.content.new'], exact: true }));
    await field(page, ja['admin.news.titleJa']).fill(title);
    await field(page, ja['admin.news.bodyJa']).fill(
      'メンテナンスのため、**一時的に**ご利用いただけません。\n\n- 開始：22時\n- 終了：翌6時',
    );
    await field(page, ja['admin.news.titleEn']).fill('Maintenance of the electronic prescription service');
    await field(page, ja['admin.news.bodyEn']).fill('The service is **briefly** unavailable.');
    await page.getByLabel(ja['admin.news.category']).selectOption('e-prescription');
    await page.getByLabel(ja['admin.news.importance']).selectOption('important');
    await follow(page, page.getByRole('button', { name: ja['admin.content.preview'], exact: true }));
    const preview = page.getByRole('region', { name: ja['admin.content.previewHeading'] });
    await shown(preview.getByText('一時的に', { exact: true }));
    await shown(preview.getByRole('listitem').filter({ hasText: '開始：22時' }));
    assert.equal(await field(page, ja['admin.news.titleJa']).inputValue(), title, 'the form keeps what was typed');
    await capture(page, '08-news-preview');

    await follow(page, page.getByRole('button', { name: ja['admin.content.publish'], exact: true }));
    await shown(page.getByText(ja['admin.content.published'], { exact: true }));
    await shown(
      page.getByRole('row').filter({ hasText: title }).getByText(ja['admin.content.statusPublished'], { exact: true }),
    );
    await capture(page, '09-news-published');

    for (const [nav, screen] of [
      [ja['admin.nav.faq'], '10-faq-list'],
      [ja['admin.nav.pages'], '12-pages-list'],
    ] as const) {
      await follow(page, menu(page).getByRole('link', { name: nav, exact: true }));
      await capture(page, screen);
      await follow(page, page.getByRole('link', { name: ja['admin.content.edit'], exact: true }).first());
      await capture(page, screen === '10-faq-list' ? '11-faq-edit' : '13-page-edit');
    }

    // The public top page, in another browser: the お知らせ heads 最新のお知らせ with 重要.
    const visitor = await newPage();
    await visitor.goto(`${base}/csm`);
    const latest = visitor.getByRole('region', { name: ja['top.latestNews'] });
    const item = latest.getByRole('listitem').first();
    await shown(item.getByRole('link', { name: title, exact: true }));
    await shown(item.getByText(ja['content.news.important'], { exact: true }));
    await capture(visitor, '14-top-with-news');
    await follow(visitor, item.getByRole('link', { name: title, exact: true }));
    await shown(heading(visitor, title, 1));
    await shown(visitor.getByText('一時的に', { exact: true }));
    assert.equal(await visitor.locator('main strong').first().innerText(), '一時的に');
    assert.deepEqual(a11y, [], a11y.join('\n'));
  });
});
