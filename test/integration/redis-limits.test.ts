/**
 * With REDIS_URL, two portal instances on the same database share their limits (R3, L2): an address that
 * used up its allowance on one instance is limited on the other too. Runs only when Redis answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/app.ts';
import { openDatabase, type OpenedDatabase } from '../../src/db/database.ts';
import { createSmtpTransport } from '../../src/mail/transports.ts';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets, redisAvailable, REDIS_URL } from '../helpers/db-targets.ts';
import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { Client, GOOD_PASSWORD, requestReset, startTestPortal, type TestPortal } from '../helpers/test-app.ts';

const targets = await dbTargets();
const withRedis = await redisAvailable();

for (const target of targets) {
  describe(`limits shared through Redis by two instances [${target}]`, {
    skip: withRedis ? false : 'Redis does not answer',
  }, () => {
    let p: TestPortal;
    let second: FastifyInstance;
    let db2: OpenedDatabase;
    let redis2: Redis;

    before(async () => {
      p = await startTestPortal(target, {
        redis: true,
        env: { RESET_REQUESTS_PER_IP_PER_HOUR: '2', LOGIN_FAILURES_PER_IP_PER_15MIN: '3' },
      });
      // A second instance: its own connections to the same database and the same Redis (and key prefix).
      db2 = openDatabase(p.database.url, p.database.schema ? { schema: p.database.schema, poolSize: 3 } : {});
      redis2 = new Redis(REDIS_URL);
      second = await buildApp({
        config: p.config,
        db: db2.db,
        dialect: db2.dialect,
        transport: createSmtpTransport(p.sink.url),
        redis: redis2,
        now: p.clock.now,
        runMailWorker: false,
        redisPrefix: p.redisPrefix,
      });
      await second.ready();
    });
    after(async () => {
      await second?.close();
      await redis2?.quit();
      await db2?.db.destroy();
      await p?.close();
    });

    /** Two browsers at the same address, one on each instance. */
    function pair(ip: string): [Client, Client] {
      const a = p.client();
      const b = new Client(second);
      a.ip = ip;
      b.ip = ip;
      return [a, b];
    }

    test('R3: the per-IP reset limit counts requests on both instances; over it, the same page, no mail, an audit event', async () => {
      for (const u of ['r3-first', 'r3-second', 'r3-third'])
        await p.createUser({ username: u, email: `${u}@example.jp` });
      const [a, b] = pair('203.0.113.71');
      const first = await requestReset(a, 'r3-first', 'r3-first@example.jp');
      const secondOk = await requestReset(a, 'r3-second', 'r3-second@example.jp');
      // The third request goes to the other instance, which has seen none from this address itself.
      const limited = await requestReset(b, 'r3-third', 'r3-third@example.jp');
      for (const page of [first, secondOk, limited]) {
        assert.equal(page.status, 200);
        assert.ok(page.text.includes(ja['reset.sent.heading']));
      }
      assert.equal(limited.text, first.text, 'R1: the limited request sees exactly the same page');
      const outcomes = (await p.audit('password_reset.requested')).filter((r) => r.ip === '203.0.113.71');
      assert.deepEqual(
        outcomes.map((r) => r.outcome),
        ['mail_queued', 'mail_queued', 'rate_limited'],
      );
      assert.equal(JSON.parse(outcomes[2]!.detail!).limit, 'ip');
      await p.sink.waitFor((m) => m.to.includes('r3-first@example.jp'));
      await p.sink.waitFor((m) => m.to.includes('r3-second@example.jp'));
      const queued = await p.database.db
        .selectFrom('outbox')
        .innerJoin('users', 'users.id', 'outbox.user_id')
        .select('users.username')
        .where('users.username', '=', 'r3-third')
        .execute();
      assert.equal(queued.length, 0, 'no mail for the limited request');
    });

    test('K2 K3: a solved proof of work used on one instance is refused on the other, and the per-IP passes count on both', async () => {
      await p.createUser({ username: 'k3-shared', email: 'k3-shared@example.jp' });
      const flowOf = (c: Client) => /flow=([A-Za-z0-9]{32})/.exec(c.formAction())![1]!;
      async function solved(c: Client): Promise<string> {
        const { challenge } = JSON.parse((await c.get(`/password-reset/pow?flow=${flowOf(c)}`)).body) as {
          challenge: Challenge;
        };
        const solution = await solveChallenge({ challenge, deriveKey });
        return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
      }
      const heading = (page: { body: string }) => /<h2>([^<]*)<\/h2>/.exec(page.body)?.[1];
      const [a, b] = pair('203.0.113.74');
      await a.open('/password-reset');
      const pow = await solved(a);
      assert.equal(
        heading(await a.submit({ stage: 'identify', action: 'next', username: 'k3-shared', captcha: '', pow })),
        ja['reset.verify.heading'],
      );
      await a.submit({ stage: 'verify', action: 'back', email: '' });
      // The same browser (its cookies) on the other instance posts the same solution again.
      b.cookies = new Map(a.cookies);
      await b.open(`/password-reset?flow=${flowOf(a)}`);
      const replay = await b.submit({ stage: 'identify', action: 'next', username: 'k3-shared', captcha: '', pow });
      assert.equal(replay.status, 400);
      assert.ok(replay.text.includes(ja['captcha.pow.invalid']));
      // POW_PASSES_PER_IP_PER_HOUR is 3: one pass above, one more on each instance, then the address is limited on both.
      for (const c of [a, b]) {
        await c.open('/password-reset');
        assert.equal(
          heading(
            await c.submit({
              stage: 'identify',
              action: 'next',
              username: 'k3-shared',
              captcha: '',
              pow: await solved(c),
            }),
          ),
          ja['reset.verify.heading'],
        );
      }
      for (const c of [a, b]) {
        c.cookies.clear();
        await c.open('/password-reset');
        assert.deepEqual(JSON.parse((await c.get(`/password-reset/pow?flow=${flowOf(c)}`)).body), { limited: true });
      }
    });

    test('L2: login failures from one address on one instance throttle it on the other (429)', async () => {
      await p.createUser({ username: 'l2-shared', displayName: '共有医院' });
      const [a, b] = pair('203.0.113.72');
      for (let i = 0; i < 3; i++) {
        await a.open('/login');
        assert.equal((await a.post('/login', { username: `l2-nobody-${i}`, password: 'Wrong2026Pass' })).status, 401);
      }
      await b.open('/login');
      const throttled = await b.post('/login', { username: 'l2-shared', password: GOOD_PASSWORD });
      assert.equal(throttled.status, 429);
      assert.ok(throttled.text.includes(ja['login.throttled']));
      // Another address logs in through the second instance.
      const [, other] = pair('203.0.113.73');
      await other.open('/login');
      assert.equal((await other.post('/login', { username: 'l2-shared', password: GOOD_PASSWORD })).status, 303);
    });
  });
}
