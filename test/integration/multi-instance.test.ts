/**
 * Scale-out (issue 5): several instances on PostgreSQL and Redis share sessions, flows, CAPTCHAs, rate limits
 * and lockouts; the outbox delivers every mail with many workers, also when one instance is killed (SIGKILL).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createSmtpTransport } from '../../src/mail/transports.ts';
import { enqueueMail } from '../../src/mail/outbox.repository.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { createUser } from '../../src/accounts/create-user.ts';
import { POLICIES } from '../../src/accounts/password-policy.ts';
import { dbTargets, freshDatabase, redisAvailable, REDIS_URL, type TestDatabase } from '../helpers/db-targets.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import {
  BASE_URL,
  CAPTCHA,
  Client,
  GOOD_PASSWORD,
  linkOf,
  pathOf,
  resetRequestsDecided,
  sleep,
} from '../helpers/test-app.ts';

const SECRET = 'multi-instance-secret-multi-instance-0123';
const targets = await dbTargets();
const haveRedis = await redisAvailable();
const skip = !targets.includes('postgres') || !haveRedis ? 'needs PostgreSQL and Redis' : false;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A client whose every request goes to the next instance in turn, with one cookie jar (a load balancer without stickiness). */
function hoppingClient(apps: Awaited<ReturnType<typeof buildApp>>[]) {
  const clients = apps.map((a) => new Client(a));
  let turn = 0;
  const next = () => {
    const prev = clients[(turn + clients.length - 1) % clients.length]!;
    const c = clients[turn % clients.length]!;
    turn++;
    c.cookies = prev.cookies;
    c.last = prev.last ?? c.last;
    return c;
  };
  return {
    open: (url: string) => next().open(url),
    submit: (fields: Record<string, string>) => next().submit(fields),
  };
}

describe('two instances on PostgreSQL and Redis', { skip }, () => {
  let database: TestDatabase;
  let sink: SmtpSink;
  let redis: Redis;
  const apps: Awaited<ReturnType<typeof buildApp>>[] = [];

  before(async () => {
    database = await freshDatabase('postgres');
    sink = await startSmtpSink();
    redis = new Redis(REDIS_URL);
    const prefix = `iryo-multi:${database.schema}:`;
    const config = loadConfig(
      {
        NODE_ENV: 'test',
        BASE_URL,
        SMTP_URL: sink.url,
        CAPTCHA_TEST_ANSWER: CAPTCHA,
        SESSION_SECRET: SECRET,
        RESET_REQUESTS_PER_IP_PER_HOUR: '3',
      },
      { persistSecret: false },
    );
    for (let i = 0; i < 2; i++) {
      const app = await buildApp({
        config,
        db: database.db,
        dialect: 'postgres',
        transport: createSmtpTransport(sink.url),
        redis,
        redisPrefix: prefix,
        mailPollMs: 50,
      });
      await app.ready();
      apps.push(app);
    }
    const r = await createUser(database.db, POLICIES.portal, Date.now(), {
      username: 'hop-user',
      email: 'hop@example.jp',
      password: GOOD_PASSWORD,
      displayName: '巡回医院',
    });
    assert.ok(r.ok);
  });

  after(async () => {
    for (const a of apps) await a.close();
    await sink.stop();
    await redis.quit();
    await database.drop();
  });

  test('the whole reset journey works when every request lands on the other instance', async () => {
    const c = hoppingClient(apps);
    await c.open('/password-reset');
    const verify = await c.submit({ stage: 'identify', action: 'next', username: 'hop-user', captcha: CAPTCHA });
    assert.match(verify.text, /パーソナルデータ検証 - メールアドレス/);
    const sent = await c.submit({ stage: 'verify', action: 'next', email: 'hop@example.jp' });
    assert.match(sent.text, /パスワード変更用URLメール送信完了/);
    const mail = await sink.waitFor((m) => m.to.includes('hop@example.jp'));
    const reset = await c.open(pathOf(linkOf(mail)));
    assert.match(reset.text, /パスワードのリセット/);
    const done = await c.submit({ password: 'Hopping2026New', confirm: 'Hopping2026New' });
    assert.match(done.text, /Password Resetに成功/);
    await c.open('/login');
    const top = await c.submit({ username: 'hop-user', password: 'Hopping2026New' });
    assert.match(top.text, /巡回医院 さん/);
    const again = await c.open('/csm');
    assert.match(again.text, /ログアウト/, 'the session made on one instance is honoured by the other');
  });

  test('R3: the per-IP reset limit is shared through Redis', async () => {
    const before = (
      await database.db
        .selectFrom('audit_log')
        .select('outcome')
        .where('event', '=', 'password_reset.requested')
        .execute()
    ).length;
    for (let i = 0; i < 4; i++) {
      const c = new Client(apps[i % 2]!);
      c.ip = '198.51.100.77';
      await c.open('/password-reset');
      await c.submit({ stage: 'identify', action: 'next', username: 'nobody', captcha: CAPTCHA });
      await c.submit({ stage: 'verify', action: 'next', email: 'nobody@example.jp' });
    }
    await resetRequestsDecided(database.db);
    const rows = await database.db
      .selectFrom('audit_log')
      .select('outcome')
      .where('event', '=', 'password_reset.requested')
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      rows
        .slice(before)
        .map((r) => r.outcome)
        .sort(),
      ['rate_limited', 'unknown_user', 'unknown_user', 'unknown_user'],
    );
  });
});

describe('the outbox with two worker processes', { skip }, () => {
  test('1,000 queued mails are all delivered, also when one instance is killed with SIGKILL midway', {
    timeout: 300_000,
  }, async () => {
    const database = await freshDatabase('postgres');
    const sink = await startSmtpSink();
    const procs: ChildProcess[] = [];
    try {
      const box = createSecretBox(SECRET);
      const now = Date.now();
      const ids: string[] = [];
      await database.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 1000; i++)
          ids.push(
            await enqueueMail(trx, box, now, {
              kind: 'load',
              userId: null,
              to: `user${i}@example.jp`,
              subject: `mail ${i}`,
              text: `body ${i}`,
            }),
          );
      });
      const url = `${database.url}?options=${encodeURIComponent(`-c search_path=${database.schema}`)}`;
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
          env: {
            ...process.env,
            PORT: String(port),
            DATABASE_URL: url,
            SMTP_URL: sink.url,
            SESSION_SECRET: SECRET,
            MAIL_CLAIM_MS: '2000',
            LOG_LEVEL: 'warn',
            BASE_URL,
            DATA_DIR: `/tmp/iryo-multi-${database.schema}-${i}`,
          },
          stdio: ['ignore', 'ignore', process.env.DEBUG_MULTI ? 'inherit' : 'ignore'],
        });
        procs.push(child);
      }
      // Kill the first instance once a fair share has gone out.
      while (sink.mails.length < 250) {
        await sleep(20);
        if (process.env.DEBUG_MULTI && Date.now() % 2000 < 20) console.error('delivered', sink.mails.length);
      }
      procs[0]!.kill('SIGKILL');
      // Generous: under a loaded CI machine the two instances share two cores with the rest of the suite.
      const until = Date.now() + 240_000;
      while (Date.now() < until) {
        const left = await database.db
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', '!=', 'sent')
          .executeTakeFirstOrThrow();
        if (Number(left.n) === 0) break;
        await sleep(100);
      }
      await sleep(500);
      const delivered = sink.mails.map((m) => String(m.headers.get('x-portal-mail-id')));
      const distinct = new Set(delivered);
      assert.equal(distinct.size, 1000, 'no mail lost');
      for (const id of ids) assert.ok(distinct.has(id));
      // A mail handed to SMTP in the instant of the kill may arrive twice, with the same Message-ID; nothing else may.
      assert.ok(
        delivered.length - distinct.size <= 1,
        `at most the one mail in flight at the kill is doubled (got ${delivered.length - distinct.size})`,
      );
      const ids2 = sink.mails.map((m) => String(m.headers.get('message-id')));
      assert.equal(new Set(ids2).size, distinct.size, 'every copy of a mail carries the same Message-ID');
    } finally {
      for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
      await Promise.all(
        procs.map(
          (p) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r))),
        ),
      );
      await sink.stop();
      await database.drop();
    }
  });
});
