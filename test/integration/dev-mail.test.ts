/**
 * Issue 11 item 4, mail a person can read, on every database target:
 * - D1 the file outbox writes 8bit UTF-8: the .eml opened as text shows the Japanese words and the whole reset link
 *   on one line (no base64, no quoted-printable `=3D` or soft line break), and that link works; SMTP mail the same;
 * - D2 /dev/mail lists the file outbox (newest first, Japan time, to, subject) and renders each mail with its links
 *   clickable and escaped, for loopback sockets only (never by a header), in development only;
 * - D3 the e-mail change mail says that the page it opens has a button to press (ja + en), and that page has it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { simpleParser } from 'mailparser';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createFileTransport, type MailTransport } from '../../src/mail/transports.ts';
import { createUser } from '../../src/accounts/create-user.ts';
import { POLICIES } from '../../src/accounts/password-policy.ts';
import { ja } from '../../src/web/i18n/ja.ts';
import { en } from '../../src/web/i18n/en.ts';
import { dbTargets, freshDatabase, type TestDatabase } from '../helpers/db-targets.ts';
import {
  BASE_URL,
  CAPTCHA,
  Client,
  GOOD_PASSWORD,
  linkOf,
  pathOf,
  requestReset,
  startTestPortal,
} from '../helpers/test-app.ts';
import { logIn } from '../helpers/accounts.ts';

const LINK_LINE = /^https:\/\/portal\.example\.jp\/passwordreset\.do\?sysparm_tiny=[A-Za-z0-9]{32}$/m;

interface FilePortal {
  app: FastifyInstance;
  database: TestDatabase;
  dir: string;
  outbox: string;
  transport: MailTransport;
  close(): Promise<void>;
}

/** A portal whose mail goes to the file outbox, as `npm start` without SMTP_URL. */
async function startFilePortal(database: TestDatabase, env: Record<string, string>): Promise<FilePortal> {
  const dir = mkdtempSync(join(tmpdir(), 'iryo-devmail-'));
  // The fixed CAPTCHA answer is accepted only with NODE_ENV=test (S8): the settings are read as a test's, then the app
  // runs in the NODE_ENV under test (/dev/mail exists only in development).
  const nodeEnv = env.NODE_ENV ?? 'development';
  const production = nodeEnv === 'production';
  const read = loadConfig(
    {
      BASE_URL,
      SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
      DATA_DIR: dir,
      ...env,
      NODE_ENV: production ? 'production' : 'test',
      ...(production ? {} : { CAPTCHA_TEST_ANSWER: CAPTCHA }),
    },
    { persistSecret: false },
  );
  const config = { ...read, nodeEnv };
  const outbox = join(dir, 'outbox');
  const transport = createFileTransport(outbox);
  const app = await buildApp({ config, db: database.db, dialect: database.dialect, transport, mailPollMs: 50 });
  await app.ready();
  return {
    app,
    database,
    dir,
    outbox,
    transport,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The .eml file of the newest mail to `to` (waits for the worker to write it). */
async function emlTo(outbox: string, to: string, subject?: string): Promise<{ file: string; raw: string }> {
  const until = Date.now() + 10_000;
  for (;;) {
    let files: string[] = [];
    try {
      files = readdirSync(outbox)
        .filter((f) => f.endsWith('.eml'))
        .sort()
        .reverse();
    } catch {
      /* not written yet */
    }
    for (const file of files) {
      const raw = readFileSync(join(outbox, file), 'utf8');
      if (raw.includes(`\nTo: ${to}\n`) && (!subject || (await simpleParser(raw)).subject === subject))
        return { file, raw };
    }
    if (Date.now() > until) throw new Error(`no .eml to ${to}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A browser on this machine: its socket is 127.0.0.1. */
function local(app: FastifyInstance): Client {
  const c = new Client(app);
  c.ip = '127.0.0.1';
  return c;
}

/** "2026-12-01 19:20:30" in Japan time, computed here rather than with the portal's own helper. */
const jst = (at: number) => new Date(at + 9 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');

const targets = await dbTargets();
for (const target of targets) {
  describe(`readable mail and /dev/mail [${target}]`, () => {
    let p: FilePortal;
    before(async () => {
      // Behind a trusted proxy, so that X-Forwarded-For would reach request.ip: /dev/mail must not follow it.
      p = await startFilePortal(await freshDatabase(target), {
        NODE_ENV: 'development',
        TRUST_PROXY: 'true',
        MAIL_RETRY_BASE_MS: '100',
      });
      for (const name of ['dv-one', 'dv-two', 'dv-mail']) {
        const r = await createUser(p.database.db, POLICIES.portal, Date.now(), {
          username: name,
          email: `${name}@example.jp`,
          password: GOOD_PASSWORD,
        });
        assert.ok(r.ok);
      }
    });
    after(async () => {
      await p?.close();
      await p?.database.drop();
    });

    test('D1: the reset mail file is 8bit UTF-8 — the Japanese words and the whole link on one line, and that link opens ③', async () => {
      await requestReset(new Client(p.app), 'dv-one', 'dv-one@example.jp');
      const { raw } = await emlTo(p.outbox, 'dv-one@example.jp');
      assert.match(raw, /^Content-Type: text\/plain; charset=utf-8$/m);
      assert.match(raw, /^Content-Transfer-Encoding: 8bit$/m);
      for (const words of [
        'パスワード変更用は以下からお願いいたします。',
        '※本URLの有効期限は1時間となります。',
        'オンライン資格確認等コールセンター：0800-080-4583（通話無料）',
      ]) {
        assert.ok(raw.includes(words), `the file shows 「${words}」`);
      }
      const link = LINK_LINE.exec(raw)?.[0];
      assert.ok(link, 'the reset link stands whole on its own line');
      const body = raw.slice(raw.indexOf('\n\n') + 2);
      assert.ok(
        !body.includes('=3D') && !body.split('\n').some((l) => l.endsWith('=') && !/^=+$/.test(l)),
        'no quoted-printable escapes or soft line breaks',
      );
      assert.ok(
        raw.split('\n').every((l) => Buffer.byteLength(l) <= 998),
        'every line within 998 octets',
      );
      const parsed = await simpleParser(raw);
      assert.equal(
        parsed.subject,
        '【医療機関等向け総合ポータルサイト】パスワード変更用URL',
        'a mail program reads the subject',
      );
      assert.ok(parsed.text?.includes(link), 'and the same link in the text');
      const page = await new Client(p.app).open(pathOf(link));
      assert.equal(page.status, 200);
      assert.ok(page.text.includes(ja['reset.submit']), 'the link copied from the file opens stage ③');
    });

    test('D2: /dev/mail from this machine lists the outbox newest first (Japan time, to, subject), no-store; a mail is shown with its links clickable, and its reset link works', async () => {
      await requestReset(new Client(p.app), 'dv-one', 'dv-one@example.jp');
      const first = await emlTo(p.outbox, 'dv-one@example.jp');
      await requestReset(new Client(p.app), 'dv-two', 'dv-two@example.jp');
      const second = await emlTo(p.outbox, 'dv-two@example.jp');
      const c = local(p.app);
      const list = await c.get('/dev/mail');
      assert.equal(list.status, 200);
      assert.equal(list.headers['cache-control'], 'no-store');
      assert.ok(list.text.includes(ja['devmail.heading']));
      assert.ok(list.text.includes(`${ja['devmail.time']} ${ja['devmail.to']} ${ja['devmail.subject']}`));
      const at = Date.parse(/^Date: (.+)$/m.exec(second.raw)![1]!);
      assert.ok(
        list.text.includes(`${jst(at)} dv-two@example.jp 【医療機関等向け総合ポータルサイト】パスワード変更用URL`),
        list.text,
      );
      assert.ok(list.body.indexOf(second.file) < list.body.indexOf(first.file), 'newest first');

      const shown = await c.get(`/dev/mail/${second.file}`);
      assert.equal(shown.status, 200);
      assert.equal(shown.headers['cache-control'], 'no-store');
      const link = LINK_LINE.exec(second.raw)![0];
      assert.ok(shown.body.includes(`<a href="${link}">${link}</a>`), 'the reset link is a link');
      assert.ok(shown.body.includes(`<a href="${BASE_URL}/csm">${BASE_URL}/csm</a>`), 'and so is the portal link');
      assert.ok(shown.text.includes('※本URLの有効期限は1時間となります。'));
      const reset = await new Client(p.app).open(
        pathOf(/<a href="([^"]*passwordreset[^"]*)"/.exec(shown.body)![1]!.replace(/&amp;/g, '&')),
      );
      assert.equal(reset.status, 200);
      assert.ok(reset.text.includes(ja['reset.submit']), 'the link followed from /dev/mail opens stage ③');

      c.cookies.set('lang', 'en');
      const english = await c.get('/dev/mail');
      assert.ok(
        english.text.includes(en['devmail.heading']) && english.text.includes(en['devmail.subject']),
        'in the page language',
      );
    });

    test('D2: a mail is rendered as text — markup in it is escaped, an address with & stays one link', async () => {
      await p.transport.send({
        id: 'markup-1',
        from: 'from@mail.iryohokenjyohoportalsite.jp',
        to: 'dv-x@example.jp',
        subject: '<b>件名</b>',
        text: '本文 <script>alert(1)</script>\nhttps://portal.example.jp/csm?a=1&b=2。\n',
      });
      const { file } = await emlTo(p.outbox, 'dv-x@example.jp');
      const shown = await local(p.app).get(`/dev/mail/${file}`);
      assert.equal(shown.status, 200);
      assert.ok(
        !shown.body.includes('<script>alert') && shown.body.includes('&lt;script>alert(1)&lt;/script>'),
        'the script is text',
      );
      assert.ok(!shown.body.includes('<b>件名') && shown.body.includes('&lt;b>件名&lt;/b>'));
      assert.ok(
        shown.body.includes('<a href="https://portal.example.jp/csm?a=1&amp;b=2">'),
        'one link, without the 。',
      );
    });

    test('D2: from another address /dev/mail is the ordinary 404 — even with X-Forwarded-For 127.0.0.1 through a trusted proxy; only outbox files are ever opened', async () => {
      await requestReset(new Client(p.app), 'dv-one', 'dv-one@example.jp');
      const { file } = await emlTo(p.outbox, 'dv-one@example.jp');
      const outside = new Client(p.app);
      outside.ip = '203.0.113.10';
      assert.equal((await local(p.app).get(`/dev/mail/${file}`)).status, 200, 'from this machine it answers');
      const missing = await outside.get('/no-such-page');
      assert.equal(missing.status, 404);
      for (const path of ['/dev/mail', `/dev/mail/${file}`]) {
        const page = await outside.get(path, { 'x-forwarded-for': '127.0.0.1' });
        assert.equal(page.status, 404, path);
        assert.equal(page.text, missing.text, 'the same page as any unknown address');
        assert.ok(!page.body.includes('sysparm_tiny'));
      }
      const c = local(p.app);
      for (const path of [
        '/dev/mail/..%2Fsession-secret',
        '/dev/mail/%2E%2E%2F..%2Fetc%2Fpasswd',
        '/dev/mail/portal.db',
        '/dev/mail/nothing.eml',
      ]) {
        const page = await c.get(path);
        assert.equal(page.status, 404, path);
      }
    });

    test('D3: the e-mail change mail says to press the button on the page it opens (ja + en); the page has that button and nothing changes before it is pressed', async () => {
      for (const [lang, cat, expected] of [
        ['ja', ja, `表示された画面で「${ja['account.email.confirmSubmit']}」ボタンを押下すると変更が完了します`],
        ['en', en, `press the "${en['account.email.confirmSubmit']}" button on the page that opens`],
      ] as const) {
        const c = new Client(p.app);
        c.cookies.set('lang', lang);
        await logIn(c, 'dv-mail', GOOD_PASSWORD);
        await c.open('/account/email');
        const newAddress = `dv-mail-${lang}@example.jp`;
        const sent = await c.submit({ email: newAddress, current: GOOD_PASSWORD });
        assert.equal(sent.status, 200);
        const { raw } = await emlTo(p.outbox, newAddress);
        const text = (await simpleParser(raw)).text ?? '';
        assert.ok(text.includes(expected), `${lang}: ${text}`);
        assert.ok(!text.includes('アクセスすると変更が完了します'), 'not "opening the link completes the change"');
        const link = /https:\/\/\S+\/account\/email\/verify\?token=[A-Za-z0-9]{32}/.exec(text)![0];
        const opener = new Client(p.app);
        opener.cookies.set('lang', lang);
        const page = await opener.open(pathOf(link));
        assert.equal(page.status, 200);
        assert.ok(
          page.body.includes(
            `<button type="submit" class="button button--primary">${cat['account.email.confirmSubmit']}</button>`,
          ),
          'the page has the button the mail names',
        );
        const row = await p.database.db
          .selectFrom('users')
          .select('email')
          .where('username', '=', 'dv-mail')
          .executeTakeFirstOrThrow();
        assert.notEqual(row.email, newAddress, 'opening the link changed nothing');
        const done = await opener.submit({});
        assert.ok(done.text.includes(cat['account.email.done']));
      }
    });
  });

  describe(`SMTP mail is 8bit too [${target}]`, () => {
    test('D1: the reset mail reaches the SMTP server as 8bit UTF-8 (BODY=8BITMIME) with the link whole, and parses as before', async () => {
      const p = await startTestPortal(target);
      try {
        await p.createUser({ username: 'dv-smtp', email: 'dv-smtp@example.jp' });
        await requestReset(p.client(), 'dv-smtp', 'dv-smtp@example.jp');
        const mail = await p.sink.waitFor((m) => m.to.includes('dv-smtp@example.jp'));
        assert.match(mail.raw, /^Content-Transfer-Encoding: 8bit\r?$/m);
        assert.deepEqual(mail.mailFromArgs, { BODY: '8BITMIME' }, 'announced to the server, which offers 8BITMIME');
        assert.ok(mail.raw.includes('※本URLの有効期限は1時間となります。'));
        assert.match(mail.raw, /^https:\/\/portal\.example\.jp\/passwordreset\.do\?sysparm_tiny=[A-Za-z0-9]{32}\r?$/m);
        assert.equal(mail.subject, '【医療機関等向け総合ポータルサイト】パスワード変更用URL');
        assert.ok(linkOf(mail).startsWith(`${BASE_URL}/passwordreset.do?sysparm_tiny=`));
        assert.match(mail.raw, /^Message-ID: <[^>]+@mail\.iryohokenjyohoportalsite\.jp>\r?$/m);
      } finally {
        await p.close();
      }
    });
  });
}

describe('/dev/mail is absent outside development', () => {
  const envs: Record<string, string>[] = [
    { NODE_ENV: 'production', MAIL_FILE_OUTBOX: 'allow' },
    { NODE_ENV: 'test' },
    { NODE_ENV: 'development', SMTP_URL: 'smtp://127.0.0.1:2525' },
  ];
  for (const env of envs) {
    test(`D2: ${JSON.stringify(env)} — /dev/mail is the 404 page even from 127.0.0.1`, async () => {
      const database = await freshDatabase('sqlite');
      const p = await startFilePortal(database, env);
      try {
        await p.transport.send({
          id: 'absent-1',
          from: 'from@mail.iryohokenjyohoportalsite.jp',
          to: 'dv-absent@example.jp',
          subject: '件名',
          text: '本文\n',
        });
        const { file } = await emlTo(p.outbox, 'dv-absent@example.jp');
        for (const path of ['/dev/mail', `/dev/mail/${file}`])
          assert.equal((await local(p.app).get(path)).status, 404, path);
      } finally {
        await p.close();
        await database.drop();
      }
    });
  }
});
