/**
 * The red team's attacks on the per-address limits (issue 10, items 2 and 3), run again on every database target
 * behind a trusted proxy (TRUST_PROXY, the client's address in X-Forwarded-For): every per-address limit counts an
 * IPv4 address or an IPv6 /64 (L2, R3, G1, G2, G4, K3).
 * - 24 wrong passwords from 24 addresses of the owner's known /64 lock that /64 after LOCKOUT_THRESHOLD; the right
 *   password from it is refused while locked; the owner's device cookie still gets in.
 * - 12 reset requests from one /64 send at most 3 mails; after strangers used up the per-account ceiling from many
 *   IPv4 addresses, the owner from a known network, and with the device cookie, still gets a mail.
 * - proof-of-work passes from one /64 are limited together.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { createOperator, operatorLogin } from '../helpers/operators.ts';
import {
  CAPTCHA,
  GOOD_PASSWORD,
  resetRequestsDecided,
  startTestPortal,
  type Client,
  type Page,
  type TestPortal,
} from '../helpers/test-app.ts';

const DEVICE = '__Host-dev';
const FAILED = ja['login.failed'].replace('{threshold}', '5').replace('{minutes}', '15');

/** A browser behind the trusted proxy (127.0.0.1), at `ip` as the proxy's X-Forwarded-For says. */
class ProxiedBrowser {
  constructor(
    readonly c: Client,
    public ip: string,
  ) {
    c.ip = '127.0.0.1';
  }
  private get h() {
    return { 'x-forwarded-for': this.ip };
  }
  async open(url: string): Promise<Page> {
    let page = await this.c.get(url, this.h);
    for (let i = 0; i < 5 && page.status >= 300 && page.status < 400 && page.location; i++)
      page = await this.c.get(page.location, this.h);
    return page;
  }
  post(url: string, fields: Record<string, string>): Promise<Page> {
    return this.c.post(url, fields, { headers: this.h });
  }
  async logIn(username: string, password: string): Promise<Page> {
    await this.open('/login');
    return this.post('/login', { username, password });
  }
  async submit(fields: Record<string, string>): Promise<Page> {
    const page = await this.post(this.c.formAction(), fields);
    return page.status === 303 && page.location ? this.open(page.location) : page;
  }
  /** Stages ① and ② of the reset, as requestReset does without a proxy. */
  async requestReset(username: string, email: string): Promise<Page> {
    await this.open('/password-reset');
    const identified = await this.submit({ stage: 'identify', action: 'next', username, captcha: CAPTCHA });
    if (identified.status !== 200) return identified;
    const sent = await this.submit({ stage: 'verify', action: 'next', email });
    await resetRequestsDecided(this.c.app.services.db);
    return sent;
  }
}

function failureText(page: Page): string {
  const m = /<div class="alert alert--error" role="alert">([\s\S]*?)<\/div>/.exec(page.body);
  return m ? m[1]!.replace(/<[^>]+>/g, '').trim() : '';
}

const heading2 = (page: Page) => /<h2>([^<]*)<\/h2>/.exec(page.body)?.[1] ?? '';

for (const target of await dbTargets()) {
  describe(`per-address limits count an IPv4 address or an IPv6 /64 [${target}]`, () => {
    let p: TestPortal;
    const at = (ip: string) => new ProxiedBrowser(p.client(), ip);
    before(async () => {
      p = await startTestPortal(target, {
        env: {
          TRUST_PROXY: '127.0.0.1',
          LOGIN_FAILURE_FLOOR_MS: '0',
          POW_PASSES_PER_IP_PER_HOUR: '2',
          RESET_REQUESTS_PER_IP_PER_HOUR: '100',
        },
      });
    });
    after(async () => {
      await p?.close();
    });

    const mailsOf = async (userId: string) =>
      (
        await p.database.db
          .selectFrom('outbox')
          .select('id')
          .where('user_id', '=', userId)
          .where('kind', '=', 'password_reset')
          .execute()
      ).length;
    const decisions = async (username: string) =>
      (await p.audit('password_reset.requested'))
        .filter((r) => r.identifier === username)
        .map((r) => {
          const d = r.detail ? JSON.parse(r.detail) : {};
          return [r.ip, r.outcome, d.limit ?? null, d.source ?? null];
        });

    test("G1 G2 L2: 24 wrong passwords from 24 addresses of the owner's known /64 lock that /64 after 5; the right password from it is refused while locked; the owner's device cookie gets in", async () => {
      const user = await p.createUser({ username: 'v6-known-net' });
      const owner = at('2001:db8:1:2::10');
      assert.equal((await owner.logIn(user.username, GOOD_PASSWORD)).status, 303, 'the owner logs in from the /64');
      assert.ok(owner.c.cookies.has(DEVICE));
      await owner.post('/logout', {});

      for (let i = 0; i < 24; i++) {
        const page = await at(`2001:db8:1:2::${(0x100 + i).toString(16)}`).logIn(user.username, `Wrong${i}Guess2026`);
        assert.equal(page.status, 401);
        assert.ok(failureText(page).startsWith(FAILED), 'the generic failure (L1)');
      }
      const logins = (await p.audit('login')).filter((a) => a.user_id === user.id && a.outcome !== 'ok');
      assert.equal(
        logins.filter((a) => a.outcome === 'bad_password').length,
        5,
        'only LOCKOUT_THRESHOLD passwords were checked',
      );
      assert.equal(logins.filter((a) => a.outcome === 'locked').length, 19);
      assert.ok(
        logins.filter((a) => a.outcome === 'bad_password').every((a) => JSON.parse(a.detail!).source === 'network'),
        'counted as the known network',
      );
      const locks = (await p.audit('account.locked')).filter((a) => a.user_id === user.id);
      assert.deepEqual(
        locks.map((a) => a.outcome),
        ['source'],
        'the /64 is locked once',
      );
      assert.equal(locks[0]!.ip, '2001:db8:1:2::104', 'the audit row keeps the full address');

      const right = await at('2001:db8:1:2:ffff::1').logIn(user.username, GOOD_PASSWORD);
      assert.equal(right.status, 401, 'the right password from another address of the locked /64 is refused');
      assert.ok(
        failureText(right).startsWith(FAILED),
        'the generic failure, with the lockout rule: the streak is per /64 too (F1)',
      );
      assert.equal(
        (await at('2001:db8:1:3::10').logIn(user.username, GOOD_PASSWORD)).status,
        303,
        'another /64 is another source',
      );

      owner.ip = '2001:db8:1:2::99';
      const back = await owner.logIn(user.username, GOOD_PASSWORD);
      assert.equal(back.status, 303, "the owner's device cookie keeps its own counter");
      const ok = (await p.audit('login')).filter((a) => a.user_id === user.id && a.outcome === 'ok').at(-1)!;
      assert.equal(JSON.parse(ok.detail!).source, 'device');
      assert.equal(ok.ip, '2001:db8:1:2::99');
    });

    test('G1 L2: from an unknown /64, rotating addresses gives no new guesses, and the account lock holds the whole /64', async () => {
      const user = await p.createUser({ username: 'v6-unknown-net' });
      for (let i = 0; i < 8; i++)
        assert.equal((await at(`2001:db8:9:9::${i + 1}`).logIn(user.username, `Wrong${i}Guess2026`)).status, 401);
      const logins = (await p.audit('login')).filter((a) => a.user_id === user.id);
      assert.equal(logins.filter((a) => a.outcome === 'bad_password').length, 5);
      assert.deepEqual(
        (await p.audit('account.locked'))
          .filter((a) => a.user_id === user.id)
          .map((a) => a.outcome)
          .sort(),
        ['source', 'temporary'],
      );
      assert.equal((await at('2001:db8:9:9:1::1').logIn(user.username, GOOD_PASSWORD)).status, 401);
    });

    test("G1 G2 L2: the console too: guesses from the addresses of an operator's known /64 lock it after 5; the operator's own browser gets in", async () => {
      const op = await createOperator(p, 'support', 'v6-operator');
      const own = p.client();
      own.ip = '2001:db8:a:b::1';
      assert.equal((await operatorLogin(own, op.username, op.password)).status, 303);
      for (let i = 0; i < 8; i++) {
        const c = p.client();
        c.ip = `2001:db8:a:b::${(0x20 + i).toString(16)}`;
        assert.equal((await operatorLogin(c, op.username, `Wrong${i}Guess2026`)).status, 401);
      }
      const logins = (await p.audit('admin.login')).filter((a) => a.identifier === op.username);
      assert.equal(logins.filter((a) => a.outcome === 'bad_password').length, 5);
      assert.equal(logins.filter((a) => a.outcome === 'locked').length, 3);
      const other = p.client();
      other.ip = '2001:db8:a:b::ffff';
      assert.equal(
        (await operatorLogin(other, op.username, op.password)).status,
        401,
        'the right password from the locked /64',
      );
      own.ip = '2001:db8:a:b::2';
      assert.equal((await operatorLogin(own, op.username, op.password)).status, 303, "the operator's device cookie");
    });

    test('R3 G4: 12 reset requests for one account from 12 addresses of one /64 send at most 3 mails', async () => {
      const user = await p.createUser({ username: 'v6-victim', email: 'v6-victim@example.jp' });
      for (let i = 0; i < 12; i++) {
        const sent = await at(`2001:db8:66:1::${i + 1}`).requestReset('v6-victim', 'v6-victim@example.jp');
        assert.equal(sent.status, 200, 'the same "sent" page every time (R1)');
      }
      assert.equal(await mailsOf(user.id), 3);
      const d = await decisions('v6-victim');
      assert.equal(d.filter(([, o]) => o === 'mail_queued').length, 3);
      assert.deepEqual(
        d.slice(3).map(([, o, l]) => [o, l]),
        Array(9).fill(['rate_limited', 'account_ip']),
      );
      assert.equal(d[11]![0], '2001:db8:66:1::12', 'the audit keeps the full address');
      assert.equal((await at('2001:db8:66:2::1').requestReset('v6-victim', 'v6-victim@example.jp')).status, 200);
      assert.equal(await mailsOf(user.id), 4, 'another /64 has its own share');
    });

    test('R3 G4: after strangers used up the per-account ceiling from many IPv4 addresses, the owner still gets a mail from a known network and with the device cookie', async () => {
      const user = await p.createUser({ username: 'v6-owner', email: 'v6-owner@example.jp' });
      const home = '198.51.100.7';
      const device = at('198.51.100.8');
      assert.equal(
        (await at(home).logIn(user.username, GOOD_PASSWORD)).status,
        303,
        'the owner logged in from home before',
      );
      assert.equal(
        (await device.logIn(user.username, GOOD_PASSWORD)).status,
        303,
        'and from the laptop (device cookie)',
      );
      await device.post('/logout', {});

      for (let n = 1; n <= 4; n++) {
        const stranger = at(`203.0.113.${200 + n}`);
        for (let i = 0; i < 3; i++) await stranger.requestReset('v6-owner', 'v6-owner@example.jp');
      }
      assert.equal(await mailsOf(user.id), 10, 'strangers got the ceiling of 10');
      assert.deepEqual(
        (await decisions('v6-owner')).slice(-2).map(([, o, l]) => [o, l]),
        [
          ['rate_limited', 'account'],
          ['rate_limited', 'account'],
        ],
      );

      p.sink.clear();
      const fromHome = await at(home).requestReset('v6-owner', 'v6-owner@example.jp');
      assert.equal(
        heading2(fromHome),
        heading2(await at('203.0.113.250').requestReset('v6-owner', 'v6-owner@example.jp')),
        'the same page as a refused stranger (R1)',
      );
      device.ip = '192.0.2.77'; // the laptop on another network
      await device.requestReset('v6-owner', 'v6-owner@example.jp');
      assert.deepEqual((await decisions('v6-owner')).slice(-3), [
        [home, 'mail_queued', null, 'network'],
        ['203.0.113.250', 'rate_limited', 'account', null],
        ['192.0.2.77', 'mail_queued', null, 'device'],
      ]);
      assert.equal(await mailsOf(user.id), 12);
      const mail = await p.sink.waitFor((m) => m.to.includes('v6-owner@example.jp'));
      assert.match(mail.text, /passwordreset\.do\?sysparm_tiny=[A-Za-z0-9]{32}/, "the owner's mail arrives");

      // The owner's own sources keep their own limit of 3 an hour.
      for (let i = 0; i < 3; i++) await at(home).requestReset('v6-owner', 'v6-owner@example.jp');
      assert.deepEqual(
        (await decisions('v6-owner')).slice(-3).map(([, o, l]) => [o, l]),
        [
          ['mail_queued', null],
          ['mail_queued', null],
          ['rate_limited', 'account_ip'],
        ],
      );
    });

    test('T6: guessing mailed links from the addresses of one /64 is limited together (30 an hour, reset and registration links alike); another /64 is not held', async () => {
      const token = (i: number) => `Guess${i}`.padEnd(32, 'x');
      const guess = (ip: string, path: string) => at(ip).c.get(path, { 'x-forwarded-for': ip });
      // 15 on each link: each route's flood limit (30 a minute, per /64 too) stays far, only the guesses add up.
      for (let i = 0; i < 30; i++) {
        const path = i % 2 ? `/register/verify?token=${token(i)}` : `/passwordreset.do?sysparm_tiny=${token(i)}`;
        assert.ok(
          [400, 410].includes((await guess(`2001:db8:7e:1::${(i + 1).toString(16)}`, path)).status),
          'an invalid link',
        );
      }
      const held = await guess('2001:db8:7e:1:ffff::1', `/passwordreset.do?sysparm_tiny=${token(99)}`);
      assert.equal(held.status, 429);
      assert.ok(held.text.includes(ja['error.rateLimited']), 'the page says so, in Japanese');
      assert.equal(
        (await guess('2001:db8:7e:2::1', `/passwordreset.do?sysparm_tiny=${token(100)}`)).status,
        400,
        'another /64: the invalid-link page, not held',
      );
    });

    test('K3: proof-of-work passes from addresses of one /64 share POW_PASSES_PER_IP_PER_HOUR (2); another /64 still passes', async () => {
      const pass = async (ip: string): Promise<'passed' | 'limited'> => {
        const b = at(ip);
        await b.open('/password-reset');
        const flow = /flow=([A-Za-z0-9]{32})/.exec(b.c.formAction())![1]!;
        const res = JSON.parse((await b.c.get(`/password-reset/pow?flow=${flow}`, { 'x-forwarded-for': ip })).body) as {
          challenge?: Challenge;
          limited?: boolean;
        };
        if (res.limited) return 'limited';
        const solution = (await solveChallenge({ challenge: res.challenge!, deriveKey }))!;
        const value = Buffer.from(
          JSON.stringify({
            challenge: res.challenge,
            solution: { counter: solution.counter, derivedKey: solution.derivedKey },
          }),
        ).toString('base64');
        const page = await b.submit({ stage: 'identify', action: 'next', username: 'v6-pow', captcha: '', pow: value });
        return heading2(page) === ja['reset.verify.heading'] ? 'passed' : 'limited';
      };
      const results = [];
      for (let i = 1; i <= 4; i++) results.push(await pass(`2001:db8:70:1::${i}`));
      assert.deepEqual(results, ['passed', 'passed', 'limited', 'limited']);
      assert.equal(await pass('2001:db8:70:2::1'), 'passed');
    });
  });
}
