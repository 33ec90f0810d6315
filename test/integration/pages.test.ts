/**
 * The seed's pages (top page, login page), every link on them, the language switch and the security
 * headers (L6), on every database target.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { en } from '../../src/web/i18n/en.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { GOOD_PASSWORD, startTestPortal, type Page, type TestPortal } from '../helpers/test-app.ts';

const decode = (s: string) => s.replace(/&amp;/g, '&');
const plain = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** Every <a href> with its visible text. */
function anchors(html: string): Array<{ href: string; text: string }> {
  return [...html.matchAll(/<a\b[^>]*?\bhref="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g)].map((m) => ({
    href: decode(m[1]!),
    text: plain(m[2]!),
  }));
}

/** Every URL the page makes a browser fetch or offers to follow: a[href], link[href], script[src], img[src]. */
function linksOf(html: string): string[] {
  const urls = [
    ...html.matchAll(/<(?:a|link)\b[^>]*?\bhref="([^"]*)"/g),
    ...html.matchAll(/<(?:script|img)\b[^>]*?\bsrc="([^"]*)"/g),
  ].map((m) => decode(m[1]!));
  return [...new Set(urls.filter((u) => !u.startsWith('#')))];
}

function h1(page: Page): string {
  const m = /<h1[^>]*>([\s\S]*?)<\/h1>/.exec(page.body);
  return m ? plain(m[1]!) : '';
}

function headerOf(html: string): string {
  const m = /<header[\s\S]*?<\/header>/.exec(html);
  assert.ok(m, 'the page has a header');
  return m[0];
}

const PUBLIC_PAGES = [
  '/csm',
  '/login',
  '/csm/news',
  '/csm/faq',
  '/csm/contact',
  '/csm/institution-changes',
  '/register',
  '/csm/services/online-qualification',
  '/csm/services/e-prescription',
  '/csm/services/ehr-sharing',
  '/password-reset',
  '/no-such-page',
];

const targets = await dbTargets();
for (const target of targets) {
  describe(`pages [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target);
    });
    after(async () => {
      await p?.close();
    });

    test('/ redirects (302) to the top page /csm', async () => {
      const r = await p.client().get('/');
      assert.equal(r.status, 302);
      assert.equal(r.location, '/csm');
    });

    test('top page: header menu of the seed (事業別トップメニュー▼ with the three services, お知らせ, よくある質問, ログイン)', async () => {
      const page = await p.client().get('/csm');
      assert.equal(page.status, 200);
      assert.match(page.body, /<html lang="ja">/);
      const header = headerOf(page.body);
      const menu = /<details[\s\S]*?<\/details>/.exec(header)?.[0] ?? '';
      assert.match(plain(menu), /^事業別トップメニュー▼/);
      const inMenu = anchors(menu);
      assert.deepEqual(
        inMenu.map((a) => a.text),
        [ja['service.oqs'], ja['service.eps'], ja['service.ehr']],
      );
      const nav = anchors(header);
      assert.equal(nav.find((a) => a.text === 'お知らせ')?.href, '/csm/news');
      assert.equal(nav.find((a) => a.text === 'よくある質問')?.href, '/csm/faq');
      assert.equal(nav.find((a) => a.text === 'ログイン')?.href, '/login');
    });

    test('top page: every tile of the seed, each leading to its own page', async () => {
      const c = p.client();
      const top = await c.get('/csm');
      const tiles: Array<[string, string | undefined, string]> = [
        ['新規ユーザー登録はこちら', '初めてご利用になられる方はこちらから', ja['reg.title']],
        ['ログインはこちら', 'すでにアカウントをお持ちの方はこちらから', 'ログインはこちら'],
        [
          '医療機関等を新設・廃止・コード変更される方はこちら',
          undefined,
          '医療機関等を新設・廃止・コード変更される方へ',
        ],
        ['お知らせ', undefined, 'お知らせ'],
        ['よくある質問', undefined, 'よくある質問'],
        ['お問い合わせ先', undefined, 'お問い合わせ先'],
        ['オンライン資格確認・オンライン請求', undefined, 'オンライン資格確認・オンライン請求'],
        ['電子処方箋管理サービス', undefined, '電子処方箋管理サービス'],
        ['電子カルテ情報共有サービス', undefined, '電子カルテ情報共有サービス'],
      ];
      const main = top.body.slice(top.body.indexOf('<main'));
      const links = anchors(main);
      for (const [title, sub, heading] of tiles) {
        const tile = links.find((a) => a.text.startsWith(title));
        assert.ok(tile, `tile 「${title}」 is on the top page`);
        if (sub) assert.equal(tile.text, `${title} ${sub}`);
        const target = await c.open(tile.href);
        assert.equal(target.status, 200, `${title} → ${tile.href}`);
        assert.equal(h1(target).replace(/^●\s*/, ''), heading, `${title} leads to a page titled ${heading}`);
      }
    });

    for (const path of ['/csm', '/login']) {
      test(`every link on ${path} answers 200 (never 404)`, async () => {
        const page = await p.client().get(path);
        const links = linksOf(page.body);
        assert.ok(links.length >= 10, `links found on ${path}: ${links.join(' ')}`);
        for (const link of links) {
          assert.ok(link.startsWith('/'), `only links of the site: ${link}`);
          const r = await p.client().open(link);
          assert.equal(r.status, 200, `${link} answered ${r.status}`);
        }
      });
    }

    test("login page: the seed's fields, button, links and notice (word for word)", async () => {
      const page = await p.client().get('/login');
      assert.equal(page.status, 200);
      assert.match(page.body, /<label for="username"[^>]*>ユーザー名/);
      assert.match(page.body, /<label for="password"[^>]*>パスワード/);
      assert.match(page.body, /<button type="submit"[^>]*>ログイン<\/button>/);
      const links = anchors(page.body);
      assert.equal(links.find((a) => a.text === 'パスワードの再設定')?.href, '/password-reset');
      assert.equal(links.find((a) => a.text === '新規登録はこちら')?.href, '/register');
      assert.ok(page.text.includes('アカウントがありませんか？ 新規登録はこちら'));
      for (const key of [
        'login.notice.lead',
        'login.notice.item1',
        'login.notice.item2',
        'login.notice.p1',
        'login.notice.p2',
        'login.notice.p3',
        'login.notice.p4',
      ] as const) {
        assert.ok(page.text.includes(ja[key]), `notice line ${key}: ${ja[key]}`);
      }
      assert.ok(page.text.includes('「@01」～「@48」'));
      // The reset link sits beside the login button, inside the form (as in the seed).
      assert.match(page.body, />ログイン<\/button>\s*<a href="\/password-reset"/);
    });

    test("logged in, the top page shows the user's display name and ログアウト instead of ログイン", async () => {
      await p.createUser({ username: 'pages-user', displayName: '表示名テスト医院' });
      const c = p.client();
      await c.open('/login');
      const top = await c.submit({ username: 'pages-user', password: GOOD_PASSWORD });
      assert.equal(top.status, 200);
      assert.equal(h1(top), ja['top.heading']);
      const header = plain(headerOf(top.body));
      assert.ok(header.includes('表示名テスト医院 さん'), header);
      assert.ok(header.includes('ログアウト'));
      assert.ok(!anchors(headerOf(top.body)).some((a) => a.href === '/login'), 'no ログイン link once logged in');
      assert.ok(top.text.includes(ja['top.welcome'].replace('{name}', '表示名テスト医院')));
    });

    test('language switch: /lang?to=en&next=/login gives the English login page, and back to Japanese', async () => {
      const c = p.client();
      const sw = await c.get('/lang?to=en&next=/login');
      assert.equal(sw.status, 303);
      assert.equal(sw.location, '/login');
      const enPage = await c.get('/login');
      assert.match(enPage.body, /<html lang="en">/);
      for (const key of ['login.username', 'login.password', 'login.forgot', 'login.notice.lead'] as const)
        assert.ok(enPage.text.includes(en[key]), en[key]);
      assert.ok(!enPage.text.includes(ja['login.notice.lead']));
      const enTop = await c.get('/csm');
      assert.match(enTop.body, /<html lang="en">/);
      assert.ok(enTop.text.includes(en['top.register']) && enTop.text.includes(en['service.ehr']));
      // The switch back is offered on the page itself.
      const back = anchors(enPage.body).find((a) => a.href.startsWith('/lang?to=ja'));
      assert.ok(back, 'a link back to Japanese');
      const jaPage = await c.open(back.href);
      assert.equal(jaPage.status, 200);
      assert.match(jaPage.body, /<html lang="ja">/);
      assert.ok(jaPage.text.includes(ja['login.notice.lead']));
    });

    test("B1: error pages speak the page's language (404 in ja, then in en)", async () => {
      const c = p.client();
      const jaMissing = await c.get('/no-such-page');
      assert.equal(jaMissing.status, 404);
      assert.ok(jaMissing.text.includes(ja['error.notFound']));
      await c.get('/lang?to=en&next=/csm');
      const enMissing = await c.get('/no-such-page');
      assert.equal(enMissing.status, 404);
      assert.match(enMissing.body, /<html lang="en">/);
      assert.ok(enMissing.text.includes(en['error.notFound']));
    });

    test('the language switch only returns to pages of this site', async () => {
      const c = p.client();
      for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
        const r = await c.get(`/lang?to=en&next=${encodeURIComponent(next)}`);
        assert.equal(r.status, 303);
        assert.equal(r.location, '/csm', `next=${next}`);
      }
      const bad = await c.get('/lang?to=xx&next=/login');
      assert.equal(bad.status, 400);
    });

    test('L6: CSP without inline script, object-src/base-uri/frame-ancestors none, nosniff, on every page', async () => {
      const c = p.client();
      for (const path of PUBLIC_PAGES) {
        const page = await c.open(path);
        const csp = String(page.headers['content-security-policy'] ?? '');
        const directives = new Map(
          csp
            .split(';')
            .map((d) => d.trim().split(/\s+/))
            .filter((d) => d[0])
            .map((d) => [d[0]!, d.slice(1)]),
        );
        assert.deepEqual(directives.get('object-src'), ["'none'"], `${path}: ${csp}`);
        assert.deepEqual(directives.get('base-uri'), ["'none'"], path);
        assert.deepEqual(directives.get('frame-ancestors'), ["'none'"], path);
        const scriptSrc = directives.get('script-src') ?? directives.get('default-src');
        assert.ok(scriptSrc, `${path}: script-src or default-src`);
        assert.ok(
          !scriptSrc.includes("'unsafe-inline'") && !scriptSrc.includes("'unsafe-eval'"),
          `${path}: ${scriptSrc.join(' ')}`,
        );
        assert.equal(page.headers['x-content-type-options'], 'nosniff', path);
      }
    });

    test('L6: no page carries an inline <script> or an inline event handler', async () => {
      const c = p.client();
      for (const path of PUBLIC_PAGES) {
        const page = await c.open(path);
        const scripts = [...page.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
        assert.ok(scripts.length > 0, `${path} loads its script`);
        for (const s of scripts) {
          assert.match(s[1]!, /\bsrc="\/static\/[^"]+"/, `${path}: every script has a src of the site`);
          assert.equal(s[2]!.trim(), '', `${path}: no inline script body`);
        }
        assert.doesNotMatch(page.body, /<[^>]+\son[a-z]+=/i, `${path}: no on…= handler`);
        assert.doesNotMatch(page.body, /javascript:/i, path);
      }
    });
  });
}

test('L6: HSTS is sent in production over https (and not in tests)', async () => {
  const dev = await startTestPortal('sqlite');
  const prod = await startTestPortal('sqlite', { env: { NODE_ENV: 'production', CAPTCHA_TEST_ANSWER: '' } });
  try {
    assert.equal((await dev.client().get('/csm')).headers['strict-transport-security'], undefined);
    const hsts = String((await prod.client().get('/csm')).headers['strict-transport-security'] ?? '');
    assert.match(hsts, /max-age=(\d+)/);
    assert.ok(Number(/max-age=(\d+)/.exec(hsts)![1]) >= 31536000, hsts);
  } finally {
    await dev.close();
    await prod.close();
  }
});
