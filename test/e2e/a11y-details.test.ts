/**
 * Accessibility details a checker does not see (issue 11 §6), in a real browser: the focus indicator reaches 3:1
 * against the background it sits on (computed from the styles Chromium applies, over the real backgrounds), each
 * reset screen has its own title, 事業別トップメニュー closes with Escape and gives the focus back to its toggle (and
 * still opens without JavaScript), and the CAPTCHA field is described by its alternatives through aria-describedby.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { ja } from '../../src/web/i18n/ja.ts';
import { en } from '../../src/web/i18n/en.ts';
import { BASE_URL, CAPTCHA, linkOf, type TestPortal } from '../helpers/test-app.ts';
import { createOperator } from '../helpers/operators.ts';
import {
  field,
  follow,
  formatA11y,
  screenshot,
  seriousA11yViolations,
  shown,
  browserPortal,
  launchOrSkip,
} from '../helpers/browser.ts';

const { launched, skip } = await launchOrSkip();

type Rgb = [number, number, number];
const parseRgb = (css: string): Rgb | undefined => {
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)/.exec(css);
  return m && (m[4] === undefined || Number(m[4]) > 0) ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
};
/** WCAG 2.x relative luminance and contrast ratio. */
const luminance = ([r, g, b]: Rgb) => {
  const c = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b);
};
const contrast = (a: Rgb, b: Rgb) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x! + 0.05) / (y! + 0.05);
};

interface FocusStyle {
  focusVisible: boolean;
  outlineStyle: string;
  outlineWidth: number;
  outlineColor: string;
  boxShadow: string;
  behind: string;
}

/** Focuses the element as a keyboard user would and reads its focus styles and the background behind it. */
async function focusStyle(page: Page, target: Locator): Promise<FocusStyle> {
  await page.keyboard.press('Shift'); // keyboard modality, so that :focus-visible applies as after a Tab
  await target.focus();
  return target.evaluate((el) => {
    const s = getComputedStyle(el);
    // The indicator is drawn outside the element: what it sits on is the nearest ancestor's painted background.
    let behind = 'rgb(255, 255, 255)';
    for (let p = el.parentElement; p; p = p.parentElement) {
      const bg = getComputedStyle(p).backgroundColor;
      if (bg && bg !== 'transparent' && !/rgba\(\d+, \d+, \d+, 0\)/.test(bg)) {
        behind = bg;
        break;
      }
    }
    return {
      focusVisible: el.matches(':focus-visible'),
      outlineStyle: s.outlineStyle,
      outlineWidth: parseFloat(s.outlineWidth),
      outlineColor: s.outlineColor,
      boxShadow: s.boxShadow,
      behind,
    };
  });
}

/**
 * The indicator's parts and how each contrasts with the background: the outline (its width) and the box-shadow halo
 * (its spread beyond the outline). At least one part 2px or wider must reach 3:1 against the background, and the
 * parts must reach 3:1 against each other so that the ring reads as one indicator on any background.
 */
function judge(name: string, f: FocusStyle): string[] {
  const problems: string[] = [];
  const bg = parseRgb(f.behind)!;
  if (!f.focusVisible) problems.push(`${name}: not :focus-visible`);
  if (f.outlineStyle === 'none' || f.outlineWidth < 2)
    problems.push(`${name}: outline ${f.outlineStyle} ${f.outlineWidth}px`);
  const ring = parseRgb(f.outlineColor);
  const shadow = /(rgba?\([^)]*\))\s+0px\s+0px\s+0px\s+([\d.]+)px/.exec(f.boxShadow);
  const halo = shadow ? parseRgb(shadow[1]!) : undefined;
  // Outline offset 2px + width: the halo shows beyond the outline only if its spread is larger.
  const haloOutside = shadow ? Number(shadow[2]) - (2 + f.outlineWidth) : 0;
  const parts: Array<[string, Rgb, number]> = [];
  if (ring) parts.push(['outline', ring, f.outlineWidth]);
  if (halo && haloOutside > 0) parts.push(['halo', halo, haloOutside]);
  const best = Math.max(0, ...parts.filter(([, , w]) => w >= 2).map(([, c]) => contrast(c, bg)));
  if (best < 3)
    problems.push(
      `${name}: best part 2px+ reaches ${best.toFixed(2)}:1 against ${f.behind} (${f.outlineColor} / ${f.boxShadow})`,
    );
  if (ring && halo && contrast(ring, halo) < 3)
    problems.push(`${name}: ring and halo only ${contrast(ring, halo).toFixed(2)}:1 apart`);
  return problems;
}

describe('browser: accessibility details [sqlite]', { skip }, () => {
  const web = browserPortal(launched);
  const { newPage } = web;
  let portal: TestPortal;
  let base: string;

  before(async () => ({ portal, base } = await web.start()));

  after(() => web.close());

  test('E6 W3: the focus indicator reaches 3:1 on white, on the light page background, on the blue and dark headers and around buttons and fields', async () => {
    const page = await newPage();
    const problems: string[] = [];
    const probe = async (name: string, target: Locator) => {
      const f = await focusStyle(page, target);
      problems.push(...judge(`${name} (on ${f.behind})`, f));
    };
    await page.goto(`${base}/csm`);
    const nav = page.getByRole('navigation', { name: ja['nav.label'] });
    await probe('header link ログイン', nav.getByRole('link', { name: ja['nav.login'], exact: true }));
    await probe('header menu toggle', nav.getByText(ja['nav.services'], { exact: true }));
    await probe('tile link', page.getByRole('main').getByRole('link').first());
    await probe('news link', page.getByRole('link', { name: ja['content.news.more'], exact: true }));
    await screenshot(page, 'a11y-01-focus-top');
    await page.goto(`${base}/login`);
    await probe('field ユーザー名', field(page, ja['login.username']));
    await probe('primary button ログイン', page.getByRole('button', { name: ja['login.submit'], exact: true }));
    await probe('link パスワードの再設定', page.getByRole('link', { name: ja['login.forgot'], exact: true }));
    await screenshot(page, 'a11y-02-focus-login');
    await page.goto(`${base}/admin/login`);
    await probe('console header link', page.locator('header a').first());
    await probe('console field', field(page, ja['admin.login.username']));
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('E6: each reset screen has its own title (① 特定 - パスワードの再設定 …), in Japanese and in English', async () => {
    for (const [lang, t, login] of [
      ['ja', ja, 'title01'],
      ['en', en, 'title02'],
    ] as const) {
      await portal.createUser({ username: login, email: `${login}@example.jp` });
      const page = await newPage();
      if (lang === 'en') await page.context().addCookies([{ name: 'lang', value: 'en', url: base }]);
      const title = (name: string) => `${name} - ${t['reset.title']} | ${t['site.title']}`;
      await page.goto(`${base}/password-reset`);
      assert.equal(await page.title(), title(`① ${t['reset.step1']}`));
      await field(page, t['reset.username']).fill(login);
      await field(page, t['reset.captcha']).fill(CAPTCHA);
      await follow(page, page.getByRole('button', { name: t['reset.next'], exact: true }));
      assert.equal(await page.title(), title(`② ${t['reset.step2']}`));
      await field(page, t['reset.email']).fill(`${login}@example.jp`);
      await follow(page, page.getByRole('button', { name: t['reset.next'], exact: true }));
      assert.equal(await page.title(), title(t['reset.sent.heading']));
      const mail = await portal.sink.waitFor((m) => m.to.includes(`${login}@example.jp`));
      const link = new URL(linkOf(mail));
      assert.equal(link.origin, BASE_URL);
      await page.goto(`${base}${link.pathname}${link.search}`);
      assert.equal(await page.title(), title(`③ ${t['reset.step3']}`));
      const password = lang === 'ja' ? 'Title2026Pass' : 'Title2026Next';
      await field(page, t['reset.newPassword']).fill(password);
      await field(page, t['reset.confirmPassword']).fill(password);
      await follow(page, page.getByRole('button', { name: t['reset.submit'], exact: true }));
      assert.equal(await page.title(), title(t['reset.done.heading']));
    }
  });

  test('E6 W3: 事業別トップメニュー closes with Escape and gives the focus back to its toggle; it also closes when the focus leaves; it opens without JavaScript', async () => {
    const page = await newPage();
    await page.goto(`${base}/csm`);
    const nav = page.getByRole('navigation', { name: ja['nav.label'] });
    const toggle = nav.getByText(ja['nav.services'], { exact: true });
    const open = () => page.locator('details.menu').evaluate((d: HTMLDetailsElement) => d.open);
    await toggle.focus();
    await page.keyboard.press('Enter');
    assert.equal(await open(), true, 'Enter on the toggle opens the menu');
    await page.keyboard.press('Tab');
    const first = nav.getByRole('link', { name: ja['service.oqs'], exact: true });
    assert.equal(await first.evaluate((a) => a === document.activeElement), true, 'Tab goes into the menu');
    await screenshot(page, 'a11y-03-menu-open');
    await page.keyboard.press('Escape');
    assert.equal(await open(), false, 'Escape closes the menu');
    assert.equal(
      await page.evaluate(() => document.activeElement?.tagName),
      'SUMMARY',
      'the focus is back on the toggle',
    );
    await page.keyboard.press('Enter');
    assert.equal(await open(), true);
    await page.keyboard.press('Escape');
    assert.equal(await open(), false, 'Escape on the toggle itself closes it too');
    // Tabbing past the last item closes it (no menu left hanging over the page).
    await page.keyboard.press('Enter');
    for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
    assert.equal(await open(), false, 'leaving the menu with Tab closes it');

    const plain = await newPage({ javaScriptEnabled: false });
    await plain.goto(`${base}/csm`);
    const plainNav = plain.getByRole('navigation', { name: ja['nav.label'] });
    await plainNav.getByText(ja['nav.services'], { exact: true }).click();
    await follow(plain, plainNav.getByRole('link', { name: ja['service.eps'], exact: true }));
    assert.equal(new URL(plain.url()).pathname, '/csm/services/e-prescription');
  });

  test('E6 W2: the CAPTCHA field is described by its help, the proof-of-work alternative (with JavaScript) and the call-center line, on ① and /register', async () => {
    const description = async (input: Locator) => {
      const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
      const page = input.page();
      return Promise.all(
        ids.map(async (id) => {
          const el = page.locator(`[id="${id}"]`);
          assert.equal(await el.count(), 1, `aria-describedby names #${id}, which exists`);
          return (await el.textContent())!.trim();
        }),
      );
    };
    const phone = portal.config.callCenterPhone;
    for (const path of ['/password-reset', '/register']) {
      const page = await newPage();
      await page.goto(`${base}${path}`);
      await shown(page.getByRole('button', { name: ja['captcha.pow.button'], exact: true }));
      assert.deepEqual(
        await description(field(page, ja['reset.captcha'])),
        [ja['reset.captchaHelp'], ja['captcha.pow.lead'], ja['reset.captchaPhoneHelp'].replace('{phone}', phone)],
        path,
      );
      const plain = await newPage({ javaScriptEnabled: false });
      await plain.goto(`${base}${path}`);
      assert.deepEqual(
        await description(field(plain, ja['reset.captcha'])),
        [ja['reset.captchaHelp'], ja['reset.captchaPhoneHelp'].replace('{phone}', phone)],
        `${path} without JavaScript: no button to describe`,
      );
    }
  });

  test('E6 E8 W3: the English page of a Japanese-only notice and the FAQ search results pass axe-core', async () => {
    const op = await createOperator(portal, 'editor', 'a11y-editor', '編集者');
    const client = portal.client();
    await client.get('/admin/login');
    await client.post('/admin/login', { username: op.username, password: op.password });
    await client.get('/admin/news/new');
    const saved = await client.post('/admin/news/new', {
      title_ja: '日本語だけのお知らせ',
      body_ja: '英語版はありません。',
      title_en: '',
      body_en: '',
      category: 'general',
      importance: 'normal',
      publish_at: new Date(portal.clock.now() - 60_000 + 9 * 3600_000).toISOString().slice(0, 16),
      end_at: '',
      action: 'publish',
    });
    assert.equal(saved.status, 303);
    const { id } = await portal.database.db
      .selectFrom('news')
      .select('id')
      .where('title_ja', '=', '日本語だけのお知らせ')
      .executeTakeFirstOrThrow();
    const page = await newPage({ bypassCSP: true }); // only to inject axe-core
    await page.context().addCookies([{ name: 'lang', value: 'en', url: base }]);
    const problems: string[] = [];
    await page.goto(`${base}/csm/news/${id}`);
    await shown(page.getByText(en['content.news.japaneseOnly'], { exact: true }));
    let found = await seriousA11yViolations(page);
    if (found.length) problems.push(formatA11y('news-ja-only-en', found));
    await screenshot(page, 'a11y-04-news-japanese-only-en');
    await page.context().clearCookies();
    await page.goto(`${base}/csm/faq?q=${encodeURIComponent('メール 届かない')}`);
    found = await seriousA11yViolations(page);
    if (found.length) problems.push(formatA11y('faq-search', found));
    await screenshot(page, 'a11y-05-faq-search');
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
