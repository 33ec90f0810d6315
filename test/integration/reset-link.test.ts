/**
 * The mailed link and stage ③ on every database target: the token (T1–T6), completing the reset (C1–C3)
 * and the password policy and storage (P1, P2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets, type TargetName } from '../helpers/db-targets.ts';
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

const NEW_PASSWORD = 'Sakura2026Hana';

let ipSeq = 0;
/** A browser of its own address, so that per-IP limits of one test do not reach another. */
function browser(p: TestPortal): Client {
  const c = p.client();
  ipSeq++;
  c.ip = `10.2.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
  return c;
}

/** Creates an account, asks for a reset from a browser of its own, and returns the mailed token. */
async function tokenFor(p: TestPortal, username: string, nth = 1): Promise<string> {
  const email = `${username}@example.jp`;
  if (nth === 1) await p.createUser({ username, email });
  await requestReset(browser(p), username, email);
  await p.sink.waitFor(() => p.sink.mails.filter((m) => m.to.includes(email)).length >= nth);
  const mail = p.sink.mails.filter((m) => m.to.includes(email))[nth - 1]!;
  return new URL(linkOf(mail)).searchParams.get('sysparm_tiny')!;
}

const linkPath = (token: string) => `/passwordreset.do?sysparm_tiny=${token}`;

/** The errors shown under a field (the element its aria-describedby points to). */
function fieldError(page: Page, id: string): string {
  const input = new RegExp(`<input[^>]*id="${id}"[^>]*>`).exec(page.body)?.[0] ?? '';
  assert.match(input, /aria-invalid="true"/, `${id} is marked invalid`);
  assert.match(input, new RegExp(`aria-describedby="[^"]*${id}-error`), `${id} points to its error`);
  const m = new RegExp(`<div id="${id}-error" class="field__error">([\\s\\S]*?)</div>`).exec(page.body);
  return m ? m[1]!.replace(/<p>/g, '').replace(/<\/p>/g, '\n').trim() : '';
}

async function login(c: Client, username: string, password: string): Promise<Page> {
  await c.open('/login');
  return c.post('/login', { username, password });
}

async function tokenRow(p: TestPortal, username: string) {
  return p.database.db
    .selectFrom('reset_tokens')
    .innerJoin('users', 'users.id', 'reset_tokens.user_id')
    .select(['reset_tokens.token_hash', 'reset_tokens.used_at', 'reset_tokens.cancelled_at', 'reset_tokens.id'])
    .where('users.username', '=', username)
    .orderBy('reset_tokens.created_at')
    .execute();
}

function assertPrivate(page: Page, what: string) {
  assert.equal(page.headers['referrer-policy'], 'no-referrer', `${what}: Referrer-Policy`);
  assert.equal(page.headers['cache-control'], 'no-store', `${what}: Cache-Control`);
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`reset link and stage ③ [${target}]`, () => {
    let p: TestPortal;
    const logLines: string[] = [];
    before(async () => {
      p = await startTestPortal(target, { logStream: { write: (line: string) => void logLines.push(line) } });
    });
    after(async () => {
      await p?.close();
    });

    test('T1: the token is 32 [A-Za-z0-9]; reset_tokens holds only its SHA-256 (hex), no table holds it', async () => {
      const token = await tokenFor(p, 't1-user');
      assert.match(token, /^[A-Za-z0-9]{32}$/);
      const rows = await tokenRow(p, 't1-user');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.token_hash, createHash('sha256').update(token).digest('hex'));
      for (const table of ['reset_tokens', 'flows', 'outbox', 'mail_events', 'audit_log', 'users'] as const) {
        const all = JSON.stringify(await p.database.db.selectFrom(table).selectAll().execute());
        assert.ok(!all.includes(token), `${table} does not hold the token`);
      }
    });

    test('T2: after 1 hour the link shows the expired page offering パスワードの再設定をやり直す', async () => {
      const token = await tokenFor(p, 't2-late');
      p.clock.advance(61 * 60_000);
      const page = await browser(p).get(linkPath(token));
      assert.equal(page.status, 410);
      assert.ok(page.text.includes(ja['reset.link.expired'].replace('{ttl}', '1時間')));
      assert.match(
        page.body,
        /<a class="button button--primary" href="\/password-reset">パスワードの再設定をやり直す<\/a>/,
      );
    });

    test('T2: a newer request cancels the older link; the newer one works', async () => {
      const first = await tokenFor(p, 't2-twice');
      const second = await tokenFor(p, 't2-twice', 2);
      const old = await browser(p).get(linkPath(first));
      assert.equal(old.status, 410);
      assert.ok(old.text.includes(ja['reset.link.cancelled']));
      const c = browser(p);
      assert.equal((await c.open(linkPath(second))).status, 200);
      assert.ok(
        (await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD })).text.includes(ja['reset.done.heading']),
      );
    });

    test('T2 T3: opening the link twice (a mail scanner first) uses nothing up; setting the password does, then the link shows the used page', async () => {
      const token = await tokenFor(p, 't3-user');
      const before = await p.database.db
        .selectFrom('users')
        .select('password_hash')
        .where('username', '=', 't3-user')
        .executeTakeFirstOrThrow();
      const scanner = browser(p);
      scanner.userAgent = 'MailScanner/2.0';
      assert.equal((await scanner.get(linkPath(token))).status, 303);
      const c = browser(p);
      const first = await c.get(linkPath(token));
      const second = await c.get(linkPath(token));
      assert.equal(first.status, 303);
      assert.equal(second.status, 303);
      const rows = await tokenRow(p, 't3-user');
      assert.deepEqual(
        rows.map((r) => [r.used_at, r.cancelled_at]),
        [[null, null]],
      );
      const after = await p.database.db
        .selectFrom('users')
        .select('password_hash')
        .where('username', '=', 't3-user')
        .executeTakeFirstOrThrow();
      assert.equal(after.password_hash, before.password_hash);
      await c.open(second.location!);
      assert.ok(
        (await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD })).text.includes(ja['reset.done.heading']),
      );
      assert.notEqual((await tokenRow(p, 't3-user'))[0]!.used_at, null);
      const used = await browser(p).get(linkPath(token));
      assert.equal(used.status, 410);
      assert.ok(used.text.includes(ja['reset.link.used']));
    });

    test('T5: the link 303s to a tokenless URL; link, ③ and done pages send no-referrer and no-store; the token is in no log line', async () => {
      const token = await tokenFor(p, 't5-user');
      const c = browser(p);
      const hop = await c.get(linkPath(token));
      assert.equal(hop.status, 303);
      assertPrivate(hop, 'link');
      assert.match(hop.location!, /^\/passwordreset\.do\?flow=[A-Za-z0-9]{32}$/);
      assert.ok(!hop.location!.includes(token));
      const three = await c.get(hop.location!);
      assertPrivate(three, 'stage ③');
      assert.ok(!three.body.includes(token), 'the page does not carry the token');
      const bad = await c.submit({ password: 'abc', confirm: 'abc' });
      assert.equal(bad.status, 400);
      assertPrivate(bad, 'stage ③ with errors');
      const done = await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      assertPrivate(done, 'done');
      const used = await c.get(linkPath(token));
      assertPrivate(used, 'used link');
      assert.ok(!used.body.includes(token), 'the used-link page does not carry the token');
      await p.app.mailWorker.runOnce();
      const lines = logLines.join('');
      assert.ok(lines.includes('sysparm_tiny=[REDACTED]'), 'the link requests were logged, redacted');
      assert.ok(!lines.includes(token), 'no log line holds the token');
    });

    test('T6: guessing tokens from one address ends in 429; other addresses are not affected', async () => {
      const guesser = browser(p);
      for (let i = 0; i < 30; i++) {
        const r = await guesser.get(linkPath(`Guess${String(i).padStart(27, '0')}`));
        assert.equal(r.status, 400);
        assert.ok(r.text.includes(ja['reset.link.invalid']));
      }
      const blocked = await guesser.get(linkPath('Guess9999999999999999999999999999'));
      assert.equal(blocked.status, 429);
      assert.ok(blocked.text.includes(ja['error.rateLimited']));
      const token = await tokenFor(p, 't6-user');
      assert.equal((await guesser.get(linkPath(token))).status, 429, 'a guessing address cannot open links');
      assert.equal((await browser(p).get(linkPath(token))).status, 303);
    });

    test('C1: each broken rule is named under the new-password field; a mismatch under the confirmation', async () => {
      const token = await tokenFor(p, 'c1-user');
      const c = browser(p);
      await c.open(linkPath(token));
      const short = await c.submit({ password: 'abc', confirm: 'abc' });
      assert.equal(short.status, 400);
      assert.deepEqual(fieldError(short, 'new-password').split('\n'), [
        ja['policy.tooShort'].replace('{min}', '8'),
        ja['policy.needUpper'],
        ja['policy.needDigit'],
      ]);
      const common = await c.submit({ password: 'Password123', confirm: 'Password123' });
      assert.equal(fieldError(common, 'new-password'), ja['policy.common']);
      const named = await c.submit({ password: 'C1-userPass9', confirm: 'C1-userPass9' });
      assert.equal(fieldError(named, 'new-password'), ja['policy.containsUsername']);
      const mismatch = await c.submit({ password: NEW_PASSWORD, confirm: `${NEW_PASSWORD}x` });
      assert.equal(mismatch.status, 400);
      assert.equal(fieldError(mismatch, 'confirm-password'), ja['reset.mismatch']);
      assert.doesNotMatch(mismatch.body, /id="new-password-error"/);
      assert.equal((await tokenRow(p, 'c1-user'))[0]!.used_at, null, 'refused passwords use nothing up');
      assert.equal((await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD })).status, 200);
    });

    test("C2 C3: no login after the reset; the account's existing session ends; the same link open in another browser stops working", async () => {
      const token = await tokenFor(p, 'c3-user');
      const office = browser(p);
      assert.equal((await login(office, 'c3-user', GOOD_PASSWORD)).status, 303);
      assert.match((await office.open('/csm')).body, /action="\/logout"/);
      const tab = browser(p);
      await tab.open(linkPath(token));
      const c = browser(p);
      await c.open(linkPath(token));
      const done = await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      assert.ok(done.text.includes(ja['reset.done.heading']));
      const top = await c.open('/csm');
      assert.doesNotMatch(top.body, /action="\/logout"/, 'C2: not logged in after the reset');
      assert.match(top.body, /<a href="\/login" class="header__login">/);
      const officeTop = await office.open('/csm');
      assert.doesNotMatch(officeTop.body, /action="\/logout"/, 'C3: the other session ended');
      const late = await tab.submit({ password: 'Another2026Pass', confirm: 'Another2026Pass' });
      assert.equal(late.status, 410);
      assert.equal((await login(browser(p), 'c3-user', 'Another2026Pass')).status, 401);
      assert.equal((await login(browser(p), 'c3-user', NEW_PASSWORD)).status, 303);
      const completed = (await p.audit('password_reset.completed')).at(-1)!;
      assert.equal(JSON.parse(completed.detail!).sessionsEnded, 1);
    });

    test('P2: the new password is stored as argon2id m=19456,t=2,p=1', async () => {
      const token = await tokenFor(p, 'p2-user');
      const c = browser(p);
      await c.open(linkPath(token));
      await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      const row = await p.database.db
        .selectFrom('users')
        .select('password_hash')
        .where('username', '=', 'p2-user')
        .executeTakeFirstOrThrow();
      assert.ok(row.password_hash.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'), row.password_hash);
      assert.ok(!row.password_hash.includes(NEW_PASSWORD));
    });
  });

  describe(`password policy presets at stage ③ [${target}]`, () => {
    async function withPolicy(policy: string, password: string, run: (c: Client) => Promise<void>) {
      const p = await startTestPortal(target as TargetName, { env: { PASSWORD_POLICY: policy } });
      try {
        await p.createUser({ username: `${policy}-user`, email: `${policy}-user@example.jp`, password });
        await requestReset(browser(p), `${policy}-user`, `${policy}-user@example.jp`);
        const mail = await p.sink.waitFor((m) => m.to.includes(`${policy}-user@example.jp`));
        const c = browser(p);
        await c.open(pathOf(linkOf(mail)));
        await run(c);
      } finally {
        await p.close();
      }
    }

    test('P1: PASSWORD_POLICY=mhlw asks for 13+ with letters, digits and symbols', async () => {
      await withPolicy('mhlw', 'Kanri-2026-Pass!', async (c) => {
        assert.ok(c.last!.text.includes(ja['policy.rule.mhlw']));
        const short = await c.submit({ password: 'Sakura-2026', confirm: 'Sakura-2026' });
        assert.equal(fieldError(short, 'new-password'), ja['policy.tooShort'].replace('{min}', '13'));
        const noSymbol = await c.submit({ password: 'SakuraHana2026', confirm: 'SakuraHana2026' });
        assert.equal(fieldError(noSymbol, 'new-password'), ja['policy.needSymbol']);
        const ok = await c.submit({ password: 'Sakura-Hana-2026', confirm: 'Sakura-Hana-2026' });
        assert.ok(ok.text.includes(ja['reset.done.heading']));
      });
    });

    test('P1: PASSWORD_POLICY=nist asks for 15+ code points and no composition', async () => {
      await withPolicy('nist', 'a quiet morning walk', async (c) => {
        assert.ok(c.last!.text.includes(ja['policy.rule.nist']));
        // 14 characters outside the BMP: 28 UTF-16 units, still too short.
        const fourteen = '𠮷'.repeat(14);
        const short = await c.submit({ password: fourteen, confirm: fourteen });
        assert.equal(fieldError(short, 'new-password'), ja['policy.tooShort'].replace('{min}', '15'));
        const ok = await c.submit({
          password: 'ひまわり畑で朝の散歩をする日曜日',
          confirm: 'ひまわり畑で朝の散歩をする日曜日',
        });
        assert.ok(ok.text.includes(ja['reset.done.heading']));
      });
    });
  });
}
