/**
 * Lockouts an attacker cannot hold (issue 10 items 2 and 3; L1, L2, G1–G3) on every database target: parallel wrong
 * passwords check at most LOCKOUT_THRESHOLD guesses (portal and console), a locked attacker's address does not
 * lock out the owner's own browser (device cookie) or network, and repeated locks of one address grow longer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { passwordWork } from '../../src/accounts/passwords.ts';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { consoleAs, createOperator, operatorLogin, tableAfter } from '../helpers/operators.ts';
import { GOOD_PASSWORD, type Client, type Page, type TestPortal, startTestPortal } from '../helpers/test-app.ts';
import { browsersAt, failureText, postLogin } from '../helpers/login.ts';

const MIN = 60_000;
const DEVICE = '__Host-dev';
const FAILED = ja['login.failed'].replace('{threshold}', '5').replace('{minutes}', '15');

/** Each test talks from its own address, so that per-address counters do not mix. */
const browser = browsersAt('192.0.2');
/** Further addresses some tests give their browsers by hand. */
let ipSeq = 0;

/** Fires `n` wrong passwords at once from one browser (one CSRF token, as a script would). */
async function burst(c: Client, path: '/login' | '/admin/login', username: string, n: number): Promise<Page[]> {
  await c.get(path);
  const csrf = c.csrf();
  return Promise.all(
    Array.from({ length: n }, (_, i) => c.post(path, { username, password: `Wrong${i}Guess2026`, _csrf: csrf })),
  );
}

/** The argon2id verifications of the burst, and how many of them were real password checks (not the dummy). */
function workSince(before: typeof passwordWork) {
  return {
    argon2: passwordWork.argon2 - before.argon2,
    real: passwordWork.argon2 - passwordWork.dummy - (before.argon2 - before.dummy),
  };
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`lockouts an attacker cannot hold [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      // No answer floor here: these tests count work and locks, login-timing.test.ts measures the floor.
      p = await startTestPortal(target, { env: { LOGIN_FAILURE_FLOOR_MS: '0' } });
    });
    after(async () => {
      await p?.close();
    });

    for (const n of [8, 20]) {
      test(`G3 L1 L2: ${n} parallel wrong POSTs /login check at most 5 passwords; the right one sent after the burst from that address does not log in`, async () => {
        const user = await p.createUser({ username: `g3-burst-${n}` });
        const attacker = browser(p);
        const work = { ...passwordWork };
        const pages = await burst(attacker, '/login', user.username, n);
        for (const page of pages) {
          assert.equal(page.status, 401);
          // The generic failure (L1); from the third in a row it goes on with the lockout rule (issue 11 item 2).
          assert.ok(failureText(page).startsWith(FAILED), 'every answer is the generic failure (L1)');
        }
        const done = workSince(work);
        assert.equal(done.real, 5, 'exactly LOCKOUT_THRESHOLD real password checks');
        assert.equal(done.argon2, n, 'one argon2id verification per answer, real or the dummy');
        const logins = (await p.audit('login')).filter((a) => a.user_id === user.id);
        assert.equal(logins.filter((a) => a.outcome === 'bad_password').length, 5);
        assert.equal(logins.filter((a) => a.outcome === 'locked').length, n - 5);
        const right = await postLogin(attacker, user.username, GOOD_PASSWORD);
        assert.equal(right.status, 401);
        assert.ok(failureText(right).startsWith(FAILED));
        assert.equal(attacker.cookies.has('__Host-sid'), false, 'no session');
        const locks = (await p.audit('account.locked'))
          .filter((a) => a.user_id === user.id)
          .map((a) => a.outcome)
          .sort();
        assert.deepEqual(locks, ['source', 'temporary'], 'the address and the account are locked once each');
      });
    }

    test("G3 L1 L2: 8 parallel wrong POSTs /admin/login check at most 5 passwords; the right one after the burst fails; the operator's own browser gets in", async () => {
      const op = await createOperator(p, 'support', 'g3-operator');
      const own = browser(p);
      assert.equal(
        (await operatorLogin(own, op.username, op.password)).status,
        303,
        'the operator logged in before (device cookie)',
      );
      assert.ok(own.cookies.has(DEVICE));
      const attacker = browser(p);
      const work = { ...passwordWork };
      const pages = await burst(attacker, '/admin/login', op.username, 8);
      for (const page of pages) {
        assert.equal(page.status, 401);
        assert.ok(page.text.includes(ja['admin.login.failed']));
      }
      assert.equal(workSince(work).real, 5);
      assert.equal(
        (await operatorLogin(attacker, op.username, op.password)).status,
        401,
        "the attacker's address is locked",
      );
      assert.equal(
        (await operatorLogin(browser(p), op.username, op.password)).status,
        401,
        'another unknown address: the operator is locked',
      );
      own.ip = `198.18.0.${++ipSeq}`; // the same browser on another network
      const ok = await operatorLogin(own, op.username, op.password);
      assert.equal(ok.status, 303, "the operator's own browser is not held by the lock");
      assert.equal(ok.location, '/admin');
      const locked = (await p.audit('admin.locked')).filter((a) => a.identifier === op.username);
      assert.deepEqual(locked.map((a) => a.outcome).sort(), ['source', 'temporary']);
      assert.equal(JSON.parse(locked.find((a) => a.outcome === 'source')!.detail!).ip, attacker.ip);
    });

    test('G2 L2: with its device cookie, the owner logs in from a new address while the attacker has locked the account; the cookie names no one in clear', async () => {
      const user = await p.createUser({ username: 'g2-device', displayName: '端末医院' });
      const owner = browser(p);
      const first = await postLogin(owner, user.username, GOOD_PASSWORD);
      assert.equal(first.status, 303);
      const set = ([first.headers['set-cookie']].flat() as string[]).find((c) => c.startsWith(`${DEVICE}=`))!;
      for (const flag of [
        /;\s*HttpOnly/i,
        /;\s*Secure/i,
        /;\s*SameSite=Lax/i,
        /;\s*Path=\/(;|$)/,
        /;\s*Max-Age=31536000/,
      ])
        assert.match(set, flag);
      const value = owner.cookies.get(DEVICE)!;
      assert.ok(!value.includes(user.id) && !value.includes(user.username), 'an HMAC, no clear id');
      await owner.post('/logout', {});

      const attacker = browser(p);
      for (let i = 0; i < 5; i++)
        assert.equal((await postLogin(attacker, user.username, `Wrong${i}Pass2026`)).status, 401);
      const stranger = await postLogin(browser(p), user.username, GOOD_PASSWORD);
      assert.equal(stranger.status, 401, 'an unknown browser and address wait for the account lock');
      assert.equal(failureText(stranger), FAILED);

      owner.ip = `198.18.1.${++ipSeq}`; // the owner's laptop in another network
      const back = await postLogin(owner, user.username, GOOD_PASSWORD);
      assert.equal(back.status, 303, "the owner's own browser logs in");
      const ok = (await p.audit('login')).filter((a) => a.user_id === user.id && a.outcome === 'ok').at(-1)!;
      assert.equal(JSON.parse(ok.detail!).source, 'device');
      assert.equal(
        (await postLogin(attacker, user.username, GOOD_PASSWORD)).status,
        401,
        "the attacker's address stays locked",
      );

      // The owner's login ended the account lock; a second attacker locks it again. A forged cookie is an unknown browser.
      const second = browser(p);
      for (let i = 0; i < 5; i++) await postLogin(second, user.username, `Again${i}Pass2026`);
      const forged = browser(p);
      forged.cookies.set(DEVICE, `${value.split('.')[0]}.${'0'.repeat(32)}`);
      assert.equal(
        (await postLogin(forged, user.username, GOOD_PASSWORD)).status,
        401,
        'a forged device cookie opens nothing',
      );
    });

    test('G2 L2: from an address (IPv4) or /64 (IPv6) it logged in from before, the owner logs in without the cookie while the account is locked', async () => {
      const user = await p.createUser({ username: 'g2-network' });
      const v4 = `203.0.113.${++ipSeq}`;
      assert.equal((await postLogin(browser(p, v4), user.username, GOOD_PASSWORD)).status, 303);
      assert.equal((await postLogin(browser(p, '2001:db8:5:7::10'), user.username, GOOD_PASSWORD)).status, 303);
      const attacker = browser(p);
      for (let i = 0; i < 5; i++) await postLogin(attacker, user.username, `Wrong${i}Pass2026`);
      assert.equal((await postLogin(browser(p), user.username, GOOD_PASSWORD)).status, 401, 'locked for a new address');
      assert.equal(
        (await postLogin(browser(p, '2001:db8:5:8::10'), user.username, GOOD_PASSWORD)).status,
        401,
        'another /64 is a new network',
      );
      assert.equal(
        (await postLogin(browser(p, v4), user.username, GOOD_PASSWORD)).status,
        303,
        'the known address logs in (a new browser, no cookie)',
      );
      for (let i = 0; i < 5; i++) await postLogin(attacker, user.username, `More${i}Pass2026`);
      assert.equal(
        (await postLogin(browser(p, '2001:db8:5:7:abcd::1'), user.username, GOOD_PASSWORD)).status,
        303,
        'the same /64 logs in',
      );
      const ok = (await p.audit('login')).filter((a) => a.user_id === user.id && a.outcome === 'ok').at(-1)!;
      assert.equal(JSON.parse(ok.detail!).source, 'network');
    });

    test("G1 L2: each new lock of the same address lasts twice as long (15, then 30 minutes); the account lock stays 15 and the owner's device is never held", async () => {
      const user = await p.createUser({ username: 'g1-grow' });
      const owner = browser(p);
      assert.equal((await postLogin(owner, user.username, GOOD_PASSWORD)).status, 303);
      const attacker = browser(p);
      const sourceLocks = async () =>
        (await p.audit('account.locked'))
          .filter((a) => a.user_id === user.id && a.outcome === 'source')
          .map((a) => JSON.parse(a.detail!) as { until: string; lockCount: number; ip: string });

      for (let i = 0; i < 5; i++) await postLogin(attacker, user.username, `First${i}Pass2026`);
      const [one] = await sourceLocks();
      assert.equal(one!.lockCount, 1);
      assert.equal(one!.ip, attacker.ip);
      assert.equal(
        (await postLogin(owner, user.username, GOOD_PASSWORD)).status,
        303,
        'the owner during the first lock',
      );
      p.clock.advance(16 * MIN);

      const startedSecond = p.clock.now();
      for (let i = 0; i < 5; i++) await postLogin(attacker, user.username, `Second${i}Pass2026`);
      const [, two] = await sourceLocks();
      assert.equal(two!.lockCount, 2);
      const minutes = Math.round((Date.parse(two!.until) - startedSecond) / MIN);
      assert.equal(minutes, 30, 'LOCKOUT_MINUTES × 2');
      assert.equal(
        (await postLogin(owner, user.username, GOOD_PASSWORD)).status,
        303,
        'the owner during the second lock',
      );

      p.clock.advance(16 * MIN);
      assert.equal(
        (await postLogin(attacker, user.username, GOOD_PASSWORD)).status,
        401,
        'the address is still locked after 16 minutes',
      );
      assert.equal(
        (await postLogin(browser(p), user.username, GOOD_PASSWORD)).status,
        303,
        'the account lock (15 minutes) has ended for others',
      );
      p.clock.advance(15 * MIN);
      assert.equal(
        (await postLogin(attacker, user.username, GOOD_PASSWORD)).status,
        303,
        'after 30 minutes the address may try again',
      );
    });

    test('G1 L2: after a quiet day the next lock of an address is the shortest again', async () => {
      const user = await p.createUser({ username: 'g1-decay' });
      const attacker = browser(p);
      const counts = async () =>
        (await p.audit('account.locked'))
          .filter((a) => a.user_id === user.id && a.outcome === 'source')
          .map((a) => JSON.parse(a.detail!).lockCount as number);
      for (let i = 0; i < 5; i++) await postLogin(attacker, user.username, `One${i}Pass2026`);
      p.clock.advance(16 * MIN);
      for (let i = 0; i < 5; i++) await postLogin(attacker, user.username, `Two${i}Pass2026`);
      assert.deepEqual(await counts(), [1, 2]);
      p.clock.advance(30 * MIN + 25 * 60 * MIN);
      for (let i = 0; i < 5; i++) await postLogin(attacker, user.username, `Three${i}Pass2026`);
      assert.deepEqual(await counts(), [1, 2, 1]);
    });

    test("G1 L2: the call center sees the locked address on the user's page and its unlock lifts it", async () => {
      const user = await p.createUser({ username: 'g1-unlock' });
      const attacker = browser(p);
      for (let i = 0; i < 5; i++) await postLogin(attacker, user.username, `Wrong${i}Pass2026`);
      assert.equal((await postLogin(attacker, user.username, GOOD_PASSWORD)).status, 401);
      const op = await consoleAs(p, await createOperator(p, 'support'), browser(p).ip);
      const page = await op.get(`/admin/users/${user.id}`);
      const row =
        new RegExp(`<dt>${ja['admin.user.lockedSources']}</dt><dd>([\\s\\S]*?)</dd>`).exec(page.body)?.[1] ?? '';
      assert.match(
        row,
        new RegExp(`${attacker.ip.replace(/\./g, '\\.')}：.+ \\(JST\\) までロック中`),
        'the address and the end of its lock',
      );
      const locked = ja['audit.account.locked.source.ip'].replace('{ip}', attacker.ip).split('{until}')[0]!;
      assert.ok(
        tableAfter(page, ja['admin.user.logins']).some((r) => r[1]!.startsWith(locked)),
        'the source lock, in words',
      );
      const done = await op.post(`/admin/users/${user.id}/unlock`, { reason: '本人確認済み（電話）' });
      assert.ok(done.status === 303 || done.status === 200, `unlock answered ${done.status}`);
      assert.equal(
        (await postLogin(attacker, user.username, GOOD_PASSWORD)).status,
        303,
        'the address may log in again',
      );
    });
  });
}
