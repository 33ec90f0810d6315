/**
 * B1 on every form (/login, /password-reset ① and ②, /passwordreset.do ③) and the mailed link:
 * missing, oversized, wrongly typed, malformed input, wrong content types and CSRF failures each get a
 * 4xx HTML page in Japanese with a clear message, never a 500 or a stack trace, and nothing stored changes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { en } from '../../src/web/i18n/en.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import {
  CAPTCHA,
  GOOD_PASSWORD,
  linkOf,
  pathOf,
  requestReset,
  startTestPortal,
  type Client,
  type Page,
  type TestPortal,
} from '../helpers/test-app.ts';
import { auditRows, consoleAs, createOperator } from '../helpers/operators.ts';

const MB = 'x'.repeat(1024 * 1024);
const LONG_NAME = 'a'.repeat(200);
const TOO_LONG = ja['field.tooLong'].replace('{max}', '100');

/** Never a 500, never a stack trace or an internal error name. */
function assertNoLeak(page: Page): void {
  assert.ok(page.status < 500, `status ${page.status}`);
  assert.doesNotMatch(page.body, /^\s*at .+[(:]\d+/m, 'no stack line');
  assert.doesNotMatch(page.body, /Error:|FST_|node_modules|\.ts:\d+/, 'no internal error text');
}

/** A refusal: the status, an HTML page in Japanese, the message. */
function assertRefused(page: Page, status: number, message: string): void {
  assert.equal(page.status, status, `expected ${status} for: ${page.text.slice(0, 200)}`);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.match(page.body, /<html lang="ja">/);
  assert.ok(page.text.includes(message), `message 「${message}」 in: ${page.text.slice(0, 400)}`);
  assertNoLeak(page);
}

const inputValue = (page: Page, name: string) =>
  new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(page.body)?.[1];

const multipart = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `--XyZ\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join('') + '--XyZ--\r\n';

/**
 * The refusals every form shares, posted to `url` with the form's own CSRF token: a 1 MB field (413),
 * a field sent twice (400), JSON / text / multipart / no content type (415), a missing or forged token (403).
 */
async function commonRefusals(c: Client, url: string, fields: Record<string, string>, field: string): Promise<void> {
  const csrf = c.csrf();
  const body = (extra: Record<string, string> = {}) =>
    new URLSearchParams({ ...fields, _csrf: csrf, ...extra }).toString();
  const post = (payload: string, headers: Record<string, string> = {}) =>
    c.post(url, {}, { csrf: false, payload, headers });
  assertRefused(await post(body({ [field]: MB })), 413, '送信された内容が大きすぎます。');
  assertRefused(await post(`${body()}&${field}=again`), 400, ja['error.badRequest']);
  for (const [type, payload] of [
    ['application/json', JSON.stringify({ ...fields, _csrf: csrf })],
    ['text/plain', body()],
    ['multipart/form-data; boundary=XyZ', multipart({ ...fields, _csrf: csrf })],
    ['', body()],
  ] as const) {
    assertRefused(await post(payload, { 'content-type': type }), 415, ja['error.unsupportedMediaType']);
  }
  assertRefused(await post(new URLSearchParams(fields).toString()), 403, ja['error.csrf']);
  assertRefused(await post(body({ _csrf: 'forged-token' })), 403, ja['error.csrf']);
}

let ipSeq = 0;
function browser(p: TestPortal): Client {
  const c = p.client();
  c.ip = `192.0.2.${++ipSeq}`;
  return c;
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`B1 bad input [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target);
    });
    after(async () => {
      await p?.close();
    });

    const failuresOf = async (id: string) =>
      (await p.database.db.selectFrom('users').select('failed_logins').where('id', '=', id).executeTakeFirstOrThrow())
        .failed_logins;

    test('B1 /login: missing fields → 400 with the field message and the typed username kept', async () => {
      const c = browser(p);
      await c.open('/login');
      const noPassword = await c.post('/login', { username: 'typed-name' });
      assertRefused(noPassword, 400, ja['field.passwordRequired']);
      assert.equal(inputValue(noPassword, 'username'), 'typed-name');
      assert.match(noPassword.body, /aria-invalid="true"/);
      const nothing = await c.post('/login', {});
      assertRefused(nothing, 400, ja['field.usernameRequired']);
      assert.ok(nothing.text.includes(ja['field.passwordRequired']));
    });

    test('B1 /login: 200-character username → 400 field message; malformed percent-encoding → 4xx, never 500', async () => {
      const c = browser(p);
      await c.open('/login');
      assertRefused(await c.post('/login', { username: LONG_NAME, password: 'x' }), 400, TOO_LONG);
      await c.open('/login');
      const malformed = await c.post(
        '/login',
        {},
        { csrf: false, payload: `username=%E0%A4%A&password=%zz&_csrf=${encodeURIComponent(c.csrf())}` },
      );
      assertRefused(malformed, 400, ja['error.badEncoding']);
    });

    test('B1 /login: oversized, repeated, wrongly typed bodies, CSRF failures — refused, and nothing counted against the account', async () => {
      const user = await p.createUser({ username: 'b1-login' });
      const c = browser(p);
      await c.open('/login');
      await commonRefusals(c, '/login', { username: 'b1-login', password: GOOD_PASSWORD }, 'password');
      assert.equal(await failuresOf(user.id), 0);
      assert.ok(!(await p.audit('login')).some((a) => a.user_id === user.id), 'no login attempt was recorded');
      await c.open('/login');
      assert.equal(
        (await c.post('/login', { username: 'b1-login', password: GOOD_PASSWORD })).status,
        303,
        'the password still works',
      );
    });

    test('B1 /password-reset ①: missing, oversized, repeated, unknown action — refused; the flow stays at ①', async () => {
      const c = browser(p);
      await c.open('/password-reset');
      const url = c.formAction();
      const noCaptcha = await c.post(url, { stage: 'identify', action: 'next', username: 'typed-name', captcha: '' });
      assertRefused(noCaptcha, 400, ja['reset.captchaRequired']);
      assert.equal(inputValue(noCaptcha, 'username'), 'typed-name', 'W4: the typed username is kept');
      assertRefused(
        await c.post(url, { stage: 'identify', action: 'next', username: '', captcha: CAPTCHA }),
        400,
        ja['field.usernameRequired'],
      );
      assertRefused(
        await c.post(url, { stage: 'identify', action: 'next', username: LONG_NAME, captcha: CAPTCHA }),
        400,
        TOO_LONG,
      );
      assertRefused(
        await c.post(url, { stage: 'identify', action: 'launch', username: 'x', captcha: CAPTCHA }),
        400,
        ja['error.badRequest'],
      );
      await c.get(url);
      const malformed = await c.post(
        url,
        {},
        {
          csrf: false,
          payload: `stage=identify&action=next&username=%E0%A4%A&captcha=%zz&_csrf=${encodeURIComponent(c.csrf())}`,
        },
      );
      assertRefused(malformed, 400, ja['error.badEncoding']);
      await c.get(url);
      await commonRefusals(
        c,
        url,
        { stage: 'identify', action: 'next', username: 'someone', captcha: CAPTCHA },
        'username',
      );
      const still = await c.get(url);
      assert.equal(still.status, 200);
      assert.ok(still.text.includes(ja['reset.identify.heading']), 'still at ① 特定');
    });

    test('B1 /password-reset ②: missing, oversized, malformed e-mail — refused; no mail, the flow stays at ②', async () => {
      const user = await p.createUser({ username: 'b1-verify', email: 'b1-verify@example.jp' });
      const c = browser(p);
      await c.open('/password-reset');
      const verify = await c.submit({ stage: 'identify', action: 'next', username: 'b1-verify', captcha: CAPTCHA });
      assert.ok(verify.text.includes(ja['reset.verify.heading']));
      const url = c.formAction();
      assertRefused(await c.post(url, { stage: 'verify', action: 'next', email: '' }), 400, ja['reset.emailRequired']);
      const long = await c.post(url, { stage: 'verify', action: 'next', email: `${'a'.repeat(300)}@example.jp` });
      assertRefused(long, 400, ja['reset.emailInvalid']);
      assertRefused(
        await c.post(
          url,
          {},
          { csrf: false, payload: `stage=verify&action=next&email=%zz&_csrf=${encodeURIComponent(c.csrf())}` },
        ),
        400,
        ja['error.badEncoding'],
      );
      await c.get(url);
      await commonRefusals(c, url, { stage: 'verify', action: 'next', email: 'b1-verify@example.jp' }, 'email');
      const still = await c.get(url);
      assert.ok(still.text.includes(ja['reset.verify.heading']), 'still at ② 検証');
      assert.ok(
        !(await p.audit('password_reset.requested')).some((a) => a.user_id === user.id),
        'no reset was requested',
      );
      const queued = await p.database.db.selectFrom('outbox').select('id').where('user_id', '=', user.id).execute();
      assert.equal(queued.length, 0, 'no mail queued');
    });

    test('B1 /passwordreset.do ③ and the link: every bad input refused; the token and the old password survive', async () => {
      await p.createUser({ username: 'b1-reset', email: 'b1-reset@example.jp' });
      const c = browser(p);
      await requestReset(c, 'b1-reset', 'b1-reset@example.jp');
      const mail = await p.sink.waitFor((m) => m.to.includes('b1-reset@example.jp'));
      const form = await c.open(pathOf(linkOf(mail)));
      assert.ok(form.text.includes(ja['reset.reset.heading']));
      const url = c.formAction();
      const none = await c.post(url, { password: '', confirm: '' });
      assertRefused(none, 400, ja['reset.newPasswordRequired']);
      assert.ok(none.text.includes(ja['reset.confirmRequired']));
      assertRefused(
        await c.post(url, { password: 'Aa1'.repeat(400), confirm: 'Aa1'.repeat(400) }),
        400,
        ja['policy.tooLong'].replace('{max}', '100'),
      );
      assertRefused(
        await c.post(
          url,
          {},
          { csrf: false, payload: `password=%E0%A4%A&confirm=%zz&_csrf=${encodeURIComponent(c.csrf())}` },
        ),
        400,
        ja['error.badEncoding'],
      );
      await c.get(url);
      await commonRefusals(c, url, { password: 'Brand2026New', confirm: 'Brand2026New' }, 'password');
      // Nothing was stored: the old password logs in, and the same link still sets a new one.
      const other = browser(p);
      await other.open('/login');
      assert.equal((await other.post('/login', { username: 'b1-reset', password: GOOD_PASSWORD })).status, 303);
      const again = await c.get(url);
      assert.ok(again.text.includes(ja['reset.reset.heading']), 'the link is still usable');
      const done = await c.submit({ password: 'Brand2026New', confirm: 'Brand2026New' });
      assert.ok(done.text.includes(ja['reset.done.heading']));
    });

    test('B1 the mailed link and URL queries: malformed, repeated or oversized parameters → 4xx page, never 500', async () => {
      const c = browser(p);
      assertRefused(await c.get('/passwordreset.do?sysparm_tiny=%E0%A4%A'), 400, ja['error.badEncoding']);
      assertRefused(await c.get(`/passwordreset.do?sysparm_tiny=${'A'.repeat(5000)}`), 400, ja['reset.link.invalid']);
      assertRefused(await c.get('/passwordreset.do?sysparm_tiny=a&sysparm_tiny=b'), 400, ja['error.badRequest']);
      assertRefused(await c.get('/passwordreset.do'), 400, ja['reset.link.invalid']);
      assertRefused(await c.get('/csm/services/%E0%A4%A'), 400, ja['error.badRequest']);
      assertRefused(await c.get('/login?m=a&m=b'), 400, ja['error.badRequest']);
      // An unreadable notice code only drops the notice: the login page itself is shown.
      const login = await c.get('/login?m=%zz');
      assertNoLeak(login);
      assert.ok([200, 400].includes(login.status), `status ${login.status}`);
      if (login.status === 200) assert.ok(login.text.includes(ja['login.notice.lead']));
      assertRefused(await c.get('/password-reset?flow=%zz'), 400, ja['error.badEncoding']);
      assertNoLeak(await c.get('/passwordreset.do?flow=%zz'));
    });

    test("B1 the refusals speak the page's language (English after the switch)", async () => {
      const c = browser(p);
      await c.get('/lang?to=en&next=/login');
      await c.open('/login');
      const big = await c.post(
        '/login',
        {},
        { csrf: false, payload: `username=x&password=${MB}&_csrf=${encodeURIComponent(c.csrf())}` },
      );
      assert.equal(big.status, 413);
      assert.match(big.body, /<html lang="en">/);
      assert.ok(big.text.includes(en['error.tooLarge']));
      const forged = await c.post('/login', {}, { csrf: false, payload: 'username=x&password=y&_csrf=forged' });
      assert.equal(forged.status, 403);
      assert.ok(forged.text.includes(en['error.csrf']));
      assertNoLeak(forged);
    });

    test('S9 B1 /lang?next= with control or non-Latin-1 characters: the language is switched and the redirect goes to the top page, never a 500', async () => {
      for (const next of [
        '/%01x',
        '/%00',
        '/login%0D%0ASet-Cookie:%20x=1',
        '/%E6%97%A5%E6%9C%AC',
        '/caf%C3%A9',
        '/x%7F',
        '/a%20b',
      ]) {
        const c = browser(p);
        const r = await c.get(`/lang?to=en&next=${next}`);
        assertNoLeak(r);
        assert.ok([303, 400].includes(r.status), `${next}: ${r.status}`);
        if (r.status === 303) {
          assert.equal(r.location, '/csm', `${next} goes to the top page`);
          assert.equal(c.cookies.get('lang'), 'en', `${next}: the language is switched`);
        } else assert.ok(r.text.includes(ja['error.badEncoding']), `${next}: the portal's own page`);
      }
      // A path of this site, percent-encoded as the layout's links are, still comes back.
      const c = browser(p);
      const ok = await c.get(`/lang?to=en&next=${encodeURIComponent('/csm/faq?q=%E6%97%A5')}`);
      assert.equal(ok.status, 303);
      assert.equal(ok.location, '/csm/faq?q=%E6%97%A5');
    });

    test('S9 B1 a NUL byte or control character in a form field (percent-encoded or raw) → 400 page, nothing counted or stored', async () => {
      const user = await p.createUser({ username: 'b1-nul' });
      const c = browser(p);
      for (const username of ['b1-nul%00', 'b1%00-nul', 'b1-nul%01']) {
        await c.open('/login');
        assertRefused(
          await c.post(
            '/login',
            {},
            { csrf: false, payload: `username=${username}&password=x&_csrf=${encodeURIComponent(c.csrf())}` },
          ),
          400,
          ja['error.badEncoding'],
        );
      }
      await c.open('/login');
      const raw = Buffer.from(`username=b1-nul\u0000&password=x&_csrf=${encodeURIComponent(c.csrf())}`, 'utf8');
      assertRefused(await c.post('/login', {}, { csrf: false, payload: raw }), 400, ja['error.badEncoding']);
      await c.open('/login');
      const notUtf8 = Buffer.concat([
        Buffer.from('username=b1-nul&password='),
        Buffer.from([0xff, 0xfe]),
        Buffer.from(`&_csrf=${encodeURIComponent(c.csrf())}`),
      ]);
      assertRefused(await c.post('/login', {}, { csrf: false, payload: notUtf8 }), 400, ja['error.badEncoding']);
      assert.equal(await failuresOf(user.id), 0);
      assert.ok(
        !(await p.audit('login')).some((a) => a.user_id === user.id || a.identifier?.includes('nul')),
        'no login attempt was recorded',
      );

      await c.open('/password-reset');
      const url = c.formAction();
      assertRefused(
        await c.post(
          url,
          {},
          {
            csrf: false,
            payload: `stage=identify&action=next&username=b1-nul%00&captcha=${CAPTCHA}&_csrf=${encodeURIComponent(c.csrf())}`,
          },
        ),
        400,
        ja['error.badEncoding'],
      );
      assert.ok((await c.get(url)).text.includes(ja['reset.identify.heading']), 'still at ① 特定');
      // Tabs and line breaks are typed into text areas: they stay readable.
      await c.open('/login');
      assertRefused(await c.post('/login', { username: 'b1-nul\t', password: '' }), 400, ja['field.passwordRequired']);
    });

    test("S9 B1 query strings with a NUL byte or broken percent-encoding → 400 page in the page's language", async () => {
      const c = browser(p);
      for (const url of [
        '/csm/faq?q=%00',
        '/csm/faq?q=%E3%81%ZZ%',
        '/csm/faq?q=%E3%81',
        '/login?m=%00',
        '/register?flow=%ZZ',
      ]) {
        assertRefused(await c.get(url), 400, ja['error.badEncoding']);
      }
      assert.equal((await c.get('/csm/faq?q=%E3%81%82')).status, 200, 'well-formed UTF-8 is read');
      await c.get('/lang?to=en&next=/csm');
      const en400 = await c.get('/csm/faq?q=%00');
      assert.equal(en400.status, 400);
      assert.match(en400.body, /<html lang="en">/);
      assert.ok(en400.text.includes(en['error.badEncoding']));
    });

    test('S9 B1 an operator action with reason=%E3%81%ZZ% is refused (400 in the console), leaves no audit entry and changes nothing', async () => {
      const user = await p.createUser({ username: 'b1-op-target' });
      await p.database.db
        .updateTable('users')
        .set({ status: 'locked', locked_until: null })
        .where('id', '=', user.id)
        .execute();
      const op = await createOperator(p, 'admin');
      const c = await consoleAs(p, op, '192.0.2.200');
      await c.get(`/admin/users/${user.id}`);
      const csrf = encodeURIComponent(c.csrf());
      for (const reason of ['%E3%81%ZZ%', '%E3%81', 'ok%00', '%']) {
        const r = await c.post(
          `/admin/users/${user.id}/unlock`,
          {},
          { csrf: false, payload: `reason=${reason}&_csrf=${csrf}` },
        );
        assertRefused(r, 400, ja['error.badEncoding']);
        assert.ok(r.text.includes(ja['admin.toConsoleTop']), "shown in the console's layout");
      }
      assert.equal(
        (await auditRows(p, 'support.unlocked')).filter((a) => a.user_id === user.id).length,
        0,
        'no audit entry',
      );
      const row = await p.database.db
        .selectFrom('users')
        .select(['status'])
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'locked', 'still locked');
    });
  });
}
