/**
 * Mail of the password reset through the durable outbox and the real SMTP sink, on every database target:
 * links from BASE_URL only (T4), the 「パスワード変更のお知らせ」 mail (C4), sealed bodies, and a mail server
 * outage that loses nothing and sends nothing twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import {
  BASE_URL,
  CAPTCHA,
  linkOf,
  pathOf,
  requestReset,
  sleep,
  startTestPortal,
  type Client,
  type TestPortal,
} from '../helpers/test-app.ts';
import type { ReceivedMail } from '../helpers/smtp-sink.ts';

const NEW_PASSWORD = 'Sakura2026Hana';
const CONTACT = [
  '社会保険診療報酬支払基金（情報化企画部・情報化支援部）',
  '国民健康保険中央会（番号制度対策本部）',
  'オンライン資格確認・医療情報化支援基金関係',
  'オンライン資格確認に関するお問い合わせ先',
  'オンライン資格確認等コールセンター：0800-080-4583（通話無料）',
  '月曜日～金曜日8：00～18：00 土曜日8：00～16：00（いずれも祝日を除く）',
];

let ipSeq = 0;
function browser(p: TestPortal): Client {
  const c = p.client();
  ipSeq++;
  c.ip = `10.3.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
  return c;
}

const resetMailsTo = (p: TestPortal, addr: string) =>
  p.sink.mails.filter((m) => m.to.includes(addr) && m.subject.includes('パスワード変更用URL'));
const tokenOf = (mail: ReceivedMail) => new URL(linkOf(mail)).searchParams.get('sysparm_tiny')!;

async function outboxOf(p: TestPortal, addr: string) {
  return p.database.db.selectFrom('outbox').selectAll().where('to_addr', '=', addr).orderBy('created_at').execute();
}

const RANK: Record<string, number> = { queued: 0, retry: 1, sent: 2, failed: 2 };
/** The delivery events of one mail in order (events of the same millisecond in their only possible order). */
async function eventsOf(p: TestPortal, outboxId: string): Promise<string[]> {
  const rows = await p.database.db
    .selectFrom('mail_events')
    .select(['event', 'at'])
    .where('outbox_id', '=', outboxId)
    .execute();
  return rows.sort((a, b) => a.at - b.at || RANK[a.event]! - RANK[b.event]!).map((r) => r.event);
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`reset mail and outbox [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      // Behind a proxy that is trusted, so that X-Forwarded-Host would reach request.host (T4).
      p = await startTestPortal(target, { env: { TRUST_PROXY: 'true' } });
    });
    after(async () => {
      await p?.close();
    });

    test('T4: a request sent with Host and X-Forwarded-Host evil.example still mails a link of BASE_URL', async () => {
      await p.createUser({ username: 't4-user', email: 't4-user@example.jp' });
      const c = browser(p);
      const evil = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' };
      let page = await c.get('/password-reset', evil);
      page = await c.get(page.location!, evil);
      const action = c.formAction();
      page = await c.post(
        action,
        { stage: 'identify', action: 'next', username: 't4-user', captcha: CAPTCHA },
        { headers: evil },
      );
      assert.equal(page.status, 303);
      await c.get(page.location!, evil);
      page = await c.post(action, { stage: 'verify', action: 'next', email: 't4-user@example.jp' }, { headers: evil });
      assert.equal(page.status, 303);
      const sent = await c.get(page.location!, evil);
      assert.ok(!sent.body.includes('evil.example'));
      const mail = await p.sink.waitFor((m) => m.to.includes('t4-user@example.jp'));
      assert.ok(linkOf(mail).startsWith(`${BASE_URL}/passwordreset.do?sysparm_tiny=`), linkOf(mail));
      assert.ok(!mail.text.includes('evil.example'));
      assert.ok(mail.text.includes(`${BASE_URL}/csm`));
    });

    test('R2 T1: the outbox body is sealed while queued (no link, no token in clear) and emptied once sent; events queued → sent', async () => {
      await p.createUser({ username: 'ob-user', email: 'ob-user@example.jp' });
      await p.sink.stop();
      try {
        await requestReset(browser(p), 'ob-user', 'ob-user@example.jp');
        const [queued] = await outboxOf(p, 'ob-user@example.jp');
        assert.ok(queued, 'the mail is in the outbox');
        assert.ok(queued.body_enc.length > 0);
        for (const clear of ['passwordreset.do', 'sysparm_tiny', 'パスワード', BASE_URL])
          assert.ok(!queued.body_enc.includes(clear), `no ${clear} in body_enc`);
        p.clock.advance(1000);
      } finally {
        await p.sink.start();
      }
      const mail = await p.sink.waitFor((m) => m.to.includes('ob-user@example.jp'));
      await p.app.mailWorker.runOnce(); // the round that delivered it has finished its bookkeeping
      const [row] = await outboxOf(p, 'ob-user@example.jp');
      assert.equal(row!.status, 'sent');
      assert.equal(row!.body_enc, '');
      assert.equal(row!.subject, '【医療機関等向け総合ポータルサイト】パスワード変更用URL');
      assert.match(tokenOf(mail), /^[A-Za-z0-9]{32}$/);
      const events = await eventsOf(p, row!.id);
      assert.equal(events[0], 'queued');
      assert.equal(events.at(-1), 'sent');
      assert.equal(events.filter((e) => e === 'sent').length, 1);
      assert.match(mail.raw, /^Auto-Submitted: auto-generated/m);
    });

    test('C4: after the reset 「パスワード変更のお知らせ」 arrives, with the contact block and no link or token', async () => {
      await p.createUser({ username: 'c4-user', email: 'c4-user@example.jp' });
      const c = browser(p);
      await requestReset(c, 'c4-user', 'c4-user@example.jp');
      const resetMail = await p.sink.waitFor((m) => m.to.includes('c4-user@example.jp'));
      await c.open(pathOf(linkOf(resetMail)));
      await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      const notice = await p.sink.waitFor(
        (m) => m.to.includes('c4-user@example.jp') && m.subject.includes('パスワード変更のお知らせ'),
      );
      assert.equal(notice.subject, '【医療機関等向け総合ポータルサイト】パスワード変更のお知らせ');
      assert.equal(notice.from, 'from@mail.iryohokenjyohoportalsite.jp');
      assert.ok(notice.text.includes('「c4-user」'));
      const lines = notice.text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      assert.deepEqual(lines.slice(-CONTACT.length), CONTACT);
      assert.ok(!notice.text.includes('passwordreset.do') && !notice.text.includes('sysparm_tiny'), 'no reset link');
      assert.ok(!notice.text.includes(tokenOf(resetMail)), 'not the used token');
      assert.doesNotMatch(notice.text, /[A-Za-z0-9]{32}/, 'nothing token-like');
      assert.ok(!notice.text.includes(NEW_PASSWORD), 'not the password');
      await p.app.mailWorker.runOnce();
      const rows = await outboxOf(p, 'c4-user@example.jp');
      assert.deepEqual(
        rows.map((r) => [r.kind, r.status, r.body_enc]),
        [
          ['password_reset', 'sent', ''],
          ['password_changed', 'sent', ''],
        ],
      );
    });
  });

  describe(`durable mail [${target}]`, () => {
    test('R2 durable mail: a reset mail requested while the SMTP server is down is retried, arrives once the server is back, and only once', async () => {
      const p = await startTestPortal(target, { realClock: true });
      try {
        await p.createUser({ username: 'dm-user', email: 'dm-user@example.jp' });
        const port = p.sink.port;
        await p.sink.stop();
        const sent = await requestReset(browser(p), 'dm-user', 'dm-user@example.jp');
        assert.equal(sent.status, 200);
        const [queued] = await outboxOf(p, 'dm-user@example.jp');
        assert.ok(queued, 'the mail waits in the outbox');
        const sealed = queued.body_enc;
        let events: string[] = [];
        for (let i = 0; i < 200 && events.filter((e) => e === 'retry').length < 2; i++) {
          await sleep(25);
          events = await eventsOf(p, queued.id);
        }
        assert.deepEqual(
          events.slice(0, 3),
          ['queued', 'retry', 'retry'],
          'the worker retries while the server is down',
        );
        const waiting = (await outboxOf(p, 'dm-user@example.jp'))[0]!;
        assert.ok(['queued', 'sending'].includes(waiting.status));
        assert.ok(waiting.attempts >= 2);
        assert.ok(waiting.last_error);
        assert.equal(resetMailsTo(p, 'dm-user@example.jp').length, 0);
        const retries = (await p.audit('mail.retry')).filter((a) => JSON.parse(a.detail!).mailId === queued.id);
        assert.ok(retries.length >= 2, 'each retry is audited');

        await p.sink.start();
        assert.equal(p.sink.port, port, 'the server is back on the same port');
        const mail = await p.sink.waitFor((m) => m.to.includes('dm-user@example.jp'), 15_000);
        await sleep(1500);
        await p.app.mailWorker.runOnce();
        assert.equal(resetMailsTo(p, 'dm-user@example.jp').length, 1, 'delivered exactly once');
        const token = tokenOf(mail);
        assert.ok(!sealed.includes(token), 'the queued body never held the token in clear');
        assert.ok(createSecretBox(p.config.sessionSecret).open(sealed).includes(token), 'it held it sealed');
        const done = (await outboxOf(p, 'dm-user@example.jp'))[0]!;
        assert.equal(done.status, 'sent');
        assert.equal(done.body_enc, '');
        assert.equal((await eventsOf(p, queued.id)).filter((e) => e === 'sent').length, 1);
        const c = browser(p);
        assert.equal((await c.open(pathOf(linkOf(mail)))).status, 200, 'the late link works');
      } finally {
        await p.close();
      }
    });
  });
}
