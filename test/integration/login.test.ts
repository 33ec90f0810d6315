/**
 * Logging in and sessions (L1–L5, P2, A1) on every database target: generic failures, lockout and
 * throttling, session ids and cookies, timeouts, logout, CSRF, rehash on login, audit rows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hash } from '@node-rs/argon2';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import {
  GOOD_PASSWORD,
  linkOf,
  pathOf,
  requestReset,
  startTestPortal,
  type Client,
  type Page,
  type TestPortal,
} from '../helpers/test-app.ts';
import { browsersAt, failureText, postLogin } from '../helpers/login.ts';

const MIN = 60_000;
const SID = '__Host-sid';
const FAILED = ja['login.failed'].replace('{threshold}', '5').replace('{minutes}', '15');
const PER_IP = 8;

/** Each test talks from its own address, so that per-address counters do not mix. */
const browser = browsersAt('198.51.100');

async function loggedInAs(c: Client): Promise<string | null> {
  const top = await c.get('/csm');
  const m = /<li class="header__user">([\s\S]*?)<\/li>/.exec(top.body);
  return m
    ? m[1]!
        .replace(/<[^>]+>/g, '')
        .trim()
        .replace(/ さん$/, '')
    : null;
}

const setCookieOf = (page: Page, name: string) => {
  const all = page.headers['set-cookie'];
  return (Array.isArray(all) ? all : all ? [all] : []).find((c) => c.startsWith(`${name}=`));
};

const targets = await dbTargets();
for (const target of targets) {
  describe(`login and sessions [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target, { env: { LOGIN_FAILURES_PER_IP_PER_15MIN: String(PER_IP) } });
    });
    after(async () => {
      await p?.close();
    });

    async function lock(username: string): Promise<void> {
      const attacker = browser(p);
      for (let i = 0; i < 5; i++) assert.equal((await postLogin(attacker, username, `Wrong${i}Pass`)).status, 401);
    }

    test('login with the right password: 303 to the top page, logged in (coordinators with their user ID)', async () => {
      await p.createUser({ username: 'login-ok', displayName: 'ログイン医院' });
      await p.createUser({
        username: 'login-coord',
        coordinator: true,
        userId: 'c7000001',
        displayName: '取りまとめ法人',
      });
      const c = browser(p);
      const r = await postLogin(c, 'login-ok', GOOD_PASSWORD);
      assert.equal(r.status, 303);
      assert.equal(r.location, '/csm');
      assert.equal(await loggedInAs(c), 'ログイン医院');
      const k = browser(p);
      assert.equal((await postLogin(k, 'C7000001', GOOD_PASSWORD)).status, 303);
      assert.equal(await loggedInAs(k), '取りまとめ法人');
    });

    test('L1: unknown user, wrong password and locked account get the same status and the same message', async () => {
      await p.createUser({ username: 'l1-user' });
      await p.createUser({ username: 'l1-locked' });
      await lock('l1-locked');
      const c = browser(p);
      const unknown = await postLogin(c, 'l1-nobody', GOOD_PASSWORD);
      const wrong = await postLogin(c, 'l1-user', 'Wrong2026Pass');
      const locked = await postLogin(c, 'l1-locked', GOOD_PASSWORD);
      for (const page of [unknown, wrong, locked]) {
        assert.equal(page.status, 401);
        assert.equal(failureText(page), FAILED);
        assert.doesNotMatch(page.text, /ロックされています|存在しません|見つかりません/);
      }
      // The typed username is kept (no need to type it again).
      assert.match(wrong.body, /name="username"[^>]*value="l1-user"/);
    });

    test('L2: 5 failures lock the account for 15 minutes, even the right password fails, then it works again', async () => {
      const user = await p.createUser({ username: 'l2-lock' });
      await lock('l2-lock');
      const locked = await p.audit('account.locked');
      assert.ok(
        locked.some((a) => a.user_id === user.id && a.outcome === 'temporary'),
        'audit account.locked',
      );
      const c = browser(p);
      const during = await postLogin(c, 'l2-lock', GOOD_PASSWORD);
      assert.equal(during.status, 401);
      assert.equal(failureText(during), FAILED);
      assert.equal(await loggedInAs(c), null);
      assert.ok((await p.audit('login')).some((a) => a.user_id === user.id && a.outcome === 'locked'));
      p.clock.advance(14 * MIN);
      assert.equal((await postLogin(c, 'l2-lock', GOOD_PASSWORD)).status, 401, 'still locked after 14 minutes');
      p.clock.advance(1 * MIN);
      const afterLock = await postLogin(c, 'l2-lock', GOOD_PASSWORD);
      assert.equal(afterLock.status, 303, 'the lock ends by itself after 15 minutes');
      assert.equal(afterLock.location, '/csm');
    });

    test('L2: after a lock ends, a single typo does not lock the account again', async () => {
      await p.createUser({ username: 'l2-relock' });
      await lock('l2-relock');
      p.clock.advance(15 * MIN);
      const c = browser(p);
      assert.equal((await postLogin(c, 'l2-relock', 'Typo2026Pass')).status, 401);
      const r = await postLogin(c, 'l2-relock', GOOD_PASSWORD);
      assert.equal(r.status, 303, 'the count of failures starts again after a lock');
    });

    test('L2: too many failures from one address → 429 with the throttle message, other addresses unaffected', async () => {
      await p.createUser({ username: 'l2-ip' });
      const c = browser(p);
      for (let i = 0; i < PER_IP; i++)
        assert.equal((await postLogin(c, `l2-ip-nobody-${i}`, 'Wrong2026Pass')).status, 401);
      const throttled = await postLogin(c, 'l2-ip', GOOD_PASSWORD);
      assert.equal(throttled.status, 429);
      assert.equal(failureText(throttled), ja['login.throttled']);
      assert.equal(await loggedInAs(c), null);
      assert.ok((await p.audit('login')).some((a) => a.outcome === 'throttled' && a.ip === c.ip));
      assert.equal((await postLogin(browser(p), 'l2-ip', GOOD_PASSWORD)).status, 303, 'another address logs in');
    });

    test('L2: a successful password reset unlocks the account at once', async () => {
      const user = await p.createUser({ username: 'l2-reset', email: 'l2-reset@example.jp' });
      await lock('l2-reset');
      const c = browser(p);
      await requestReset(c, 'l2-reset', 'l2-reset@example.jp');
      const mail = await p.sink.waitFor(
        (m) => m.to.includes('l2-reset@example.jp') && m.subject.includes('パスワード変更用URL'),
      );
      await c.open(pathOf(linkOf(mail)));
      const done = await c.submit({ password: 'Unlock2026Pass', confirm: 'Unlock2026Pass' });
      assert.ok(done.text.includes('Password Resetに成功'));
      const r = await postLogin(c, 'l2-reset', 'Unlock2026Pass');
      assert.equal(r.status, 303, 'no waiting for the lock to end');
      const completed = (await p.audit('password_reset.completed')).find((a) => a.user_id === user.id);
      assert.equal(JSON.parse(completed!.detail!).unlocked, true);
    });

    test('L3: a new session id at login; a pre-set session cookie is not kept; cookie flags and __Host- prefix', async () => {
      await p.createUser({ username: 'l3-user', displayName: 'L3医院' });
      const c = browser(p);
      const planted = 'planted-by-attacker-0123456789abcdefghijklmnopq';
      c.cookies.set(SID, planted);
      await c.open('/login');
      const r = await c.post('/login', { username: 'l3-user', password: GOOD_PASSWORD });
      assert.equal(r.status, 303);
      const cookie = setCookieOf(r, SID);
      assert.ok(cookie, 'the login sets the session cookie');
      const sid = c.cookies.get(SID)!;
      assert.notEqual(sid, planted);
      assert.ok(sid.length >= 22, `at least 128 bits: ${sid.length} chars`);
      for (const flag of [/;\s*HttpOnly/i, /;\s*Secure/i, /;\s*SameSite=Lax/i, /;\s*Path=\/(;|$)/])
        assert.match(cookie, flag);
      assert.doesNotMatch(cookie, /Domain=/i, '__Host- cookies carry no Domain');
      const csrfCookie = setCookieOf(await browser(p).get('/login'), '__Host-csrf');
      assert.ok(csrfCookie, 'a first visit gets the CSRF cookie');
      for (const flag of [/;\s*HttpOnly/i, /;\s*Secure/i, /;\s*SameSite=Lax/i]) assert.match(csrfCookie, flag);
      // The planted value logs nobody in.
      const other = browser(p);
      other.cookies.set(SID, planted);
      assert.equal(await loggedInAs(other), null);
      assert.equal(await loggedInAs(c), 'L3医院');
    });

    test('L3: logging in again from a logged-in browser replaces the session; the old id stops working', async () => {
      await p.createUser({ username: 'l3-again', displayName: '再ログイン医院' });
      const c = browser(p);
      await postLogin(c, 'l3-again', GOOD_PASSWORD);
      const first = c.cookies.get(SID)!;
      await c.get('/csm');
      assert.equal((await c.post('/login', { username: 'l3-again', password: GOOD_PASSWORD })).status, 303);
      const second = c.cookies.get(SID)!;
      assert.notEqual(second, first);
      const stale = browser(p);
      stale.cookies.set(SID, first);
      assert.equal(await loggedInAs(stale), null);
      assert.equal(await loggedInAs(c), '再ログイン医院');
    });

    test('P2: a hash made with weaker parameters is rehashed to m=19456 at login', async () => {
      const user = await p.createUser({ username: 'p2-rehash' });
      const weak = await hash(GOOD_PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 2, parallelism: 1 });
      assert.match(weak, /m=4096/);
      await p.database.db.updateTable('users').set({ password_hash: weak }).where('id', '=', user.id).execute();
      assert.equal((await postLogin(browser(p), 'p2-rehash', GOOD_PASSWORD)).status, 303);
      const row = await p.database.db
        .selectFrom('users')
        .select('password_hash')
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.equal((await postLogin(browser(p), 'p2-rehash', GOOD_PASSWORD)).status, 303, 'the new hash verifies');
    });

    test('L4: idle timeout — 29 idle minutes keep the session, 31 more end it (server side)', async () => {
      await p.createUser({ username: 'l4-idle', displayName: '放置医院' });
      const c = browser(p);
      await postLogin(c, 'l4-idle', GOOD_PASSWORD);
      const sid = c.cookies.get(SID)!;
      p.clock.advance(29 * MIN);
      assert.equal(await loggedInAs(c), '放置医院');
      p.clock.advance(31 * MIN);
      const top = await c.get('/csm');
      assert.ok(!top.text.includes('放置医院'));
      assert.match(top.body, /<a href="\/login" class="header__login">ログイン<\/a>/);
      assert.equal(c.cookies.has(SID), false, 'the cookie is cleared');
      const replay = browser(p);
      replay.cookies.set(SID, sid);
      assert.equal(await loggedInAs(replay), null, 'the server-side session is gone');
    });

    test('L4: absolute timeout — an active session still ends after 8 hours', async () => {
      await p.createUser({ username: 'l4-abs', displayName: '長時間医院' });
      const c = browser(p);
      await postLogin(c, 'l4-abs', GOOD_PASSWORD);
      for (let i = 1; i <= 16; i++) {
        p.clock.advance(29 * MIN);
        assert.equal(await loggedInAs(c), '長時間医院', `active after ${i * 29} minutes`);
      }
      p.clock.advance(29 * MIN); // 493 minutes > 8 hours
      assert.equal(await loggedInAs(c), null);
    });

    test('L4/A1: logout ends the server session (the old cookie no longer works) and is audited', async () => {
      const user = await p.createUser({ username: 'l4-logout', displayName: '退出医院' });
      const c = browser(p);
      await postLogin(c, 'l4-logout', GOOD_PASSWORD);
      const sid = c.cookies.get(SID)!;
      await c.get('/csm');
      const out = await c.post('/logout', {});
      assert.equal(out.status, 303);
      assert.equal(out.location, '/login?m=loggedOut');
      assert.ok((await c.get(out.location)).text.includes(ja['login.loggedOut']));
      const replay = browser(p);
      replay.cookies.set(SID, sid);
      assert.equal(await loggedInAs(replay), null);
      assert.ok((await p.audit('logout')).some((a) => a.user_id === user.id && a.outcome === 'ok'));
    });

    test('L5: POST /login without a CSRF token, or with a forged one, is refused (403) and logs nobody in', async () => {
      const user = await p.createUser({ username: 'l5-login' });
      const victim = browser(p);
      const foreign = browser(p);
      await foreign.open('/login');
      const tokenOfAnotherBrowser = foreign.csrf();
      await victim.open('/login');
      for (const fields of [
        { username: 'l5-login', password: GOOD_PASSWORD, _csrf: '' },
        { username: 'l5-login', password: GOOD_PASSWORD, _csrf: 'forged-token' },
        { username: 'l5-login', password: GOOD_PASSWORD, _csrf: tokenOfAnotherBrowser },
      ]) {
        const r = await victim.post('/login', fields);
        assert.equal(r.status, 403, `_csrf=${fields._csrf}`);
        assert.ok(r.text.includes(ja['error.csrf']));
        assert.ok(r.text.startsWith('エラー'));
      }
      const noField = await victim.post('/login', { username: 'l5-login', password: GOOD_PASSWORD }, { csrf: false });
      assert.equal(noField.status, 403);
      assert.equal(victim.cookies.has(SID), false);
      assert.ok(!(await p.audit('login')).some((a) => a.user_id === user.id), 'no login was attempted');
    });

    test('L5: POST /logout with a forged CSRF token is refused and the session stays', async () => {
      await p.createUser({ username: 'l5-logout', displayName: '継続医院' });
      const c = browser(p);
      await postLogin(c, 'l5-logout', GOOD_PASSWORD);
      const r = await c.post('/logout', { _csrf: 'forged' });
      assert.equal(r.status, 403);
      assert.ok(r.text.includes(ja['error.csrf']));
      assert.equal(await loggedInAs(c), '継続医院');
    });

    test('A1: login success, failure and logout rows carry ip, user agent and outcome, never a password', async () => {
      const user = await p.createUser({ username: 'a1-user' });
      const c = browser(p);
      c.userAgent = 'AuditBrowser/2.0 (A1)';
      const wrongPassword = 'Wrong-A1-Secret-77';
      await postLogin(c, 'a1-user', wrongPassword);
      await postLogin(c, 'a1-nobody', wrongPassword);
      await postLogin(c, 'a1-user', GOOD_PASSWORD);
      await c.get('/csm');
      await c.post('/logout', {});
      const rows = (await p.audit()).filter((a) => a.ip === c.ip);
      const summary = rows.map((a) => `${a.event}:${a.outcome}`);
      assert.deepEqual(summary, ['login:bad_password', 'login:unknown_user', 'login:ok', 'logout:ok']);
      for (const a of rows) {
        assert.equal(a.user_agent, 'AuditBrowser/2.0 (A1)');
        assert.equal(a.ip, c.ip);
      }
      assert.equal(rows[0]!.user_id, user.id);
      assert.equal(rows[1]!.identifier, 'a1-nobody');
      assert.equal(rows[2]!.user_id, user.id);
      const everything = JSON.stringify(await p.audit());
      for (const secret of [wrongPassword, GOOD_PASSWORD, 'Unlock2026Pass'])
        assert.ok(!everything.includes(secret), `no password in the audit trail`);
    });
  });
}
