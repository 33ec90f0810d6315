/**
 * R2 (with R1, T2, A1): stage ② of the password reset does the same work whatever the account — it moves the flow
 * to 'sent' and writes one reset_requests row (no address in clear) — and the mail worker decides the request
 * a moment later: it issues the token and queues the seed's mail when the account and address match, writes the
 * outcome to the audit trail and removes the request. On PostgreSQL two instances deciding the same waiting
 * requests at the same time decide each exactly once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { openDatabase, type OpenedDatabase } from '../../src/db/database.ts';
import type { Database } from '../../src/db/schema.ts';
import { createSmtpTransport } from '../../src/mail/transports.ts';
import { processResetRequests } from '../../src/flows/recovery/recovery.flow.ts';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { CAPTCHA, Client, linkOf, pathOf, startTestPortal, type Page, type TestPortal } from '../helpers/test-app.ts';

const RESET_SUBJECT = '【医療機関等向け総合ポータルサイト】パスワード変更用URL';

/** Every table of the schema: a request must change the same ones, by the same number of rows, whatever the account. */
const TABLES: Array<keyof Database> = [
  'users',
  'sessions',
  'flows',
  'reset_tokens',
  'reset_requests',
  'outbox',
  'mail_events',
  'audit_log',
  'coordinator_institutions',
  'email_verifications',
  'operators',
  'operator_sessions',
  'news',
  'faq',
  'pages',
];

let ipSeq = 0;
/** A browser at an address of its own (per-IP limits of one case do not reach another). */
function browser(app: TestPortal | FastifyInstance): Client {
  const c = 'app' in app ? app.client() : new Client(app);
  ipSeq++;
  c.ip = `10.8.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
  return c;
}

/** The sent page with what differs between two flows (flow id, CSRF token) taken out. */
const normalised = (body: string) =>
  body
    .replace(/flow(=|%3D)[A-Za-z0-9]{32}/g, 'flow$1X')
    .replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value="X"');

/** Walks stage ① (username + CAPTCHA); returns the flow id, the browser on the stage-② page. */
async function toStageTwo(c: Client, username: string): Promise<string> {
  await c.open('/password-reset');
  const two = await c.submit({ stage: 'identify', action: 'next', username, captcha: CAPTCHA });
  assert.equal(two.status, 200, `stage ① done for ${username}`);
  assert.ok(two.text.includes(ja['reset.verify.heading']));
  const m = /flow=([A-Za-z0-9]{32})/.exec(c.formAction());
  assert.ok(m, 'the stage-② form posts to a flow');
  return m[1]!;
}

/** Posts stage ② (the answer itself, not followed). */
async function postStageTwo(c: Client, email: string): Promise<Page> {
  return c.post(c.formAction(), { stage: 'verify', action: 'next', email });
}

async function counts(db: TestPortal['database']['db']): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) {
    const r = await db
      .selectFrom(t)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    out[t] = Number(r.n);
  }
  return out;
}

function delta(was: Record<string, number>, now: Record<string, number>): Record<string, number> {
  return Object.fromEntries(TABLES.filter((t) => now[t] !== was[t]).map((t) => [t, now[t]! - was[t]!]));
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`reset requests, decided by the worker (R2) [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target);
      // Stopped, so that the state between the answer and the worker's decision can be seen.
      await p.app.mailWorker.stop();
    });
    after(async () => {
      await p?.close();
    });

    const cases = [
      { name: 'right address', username: 'r2-right', email: 'r2-right@example.jp', outcome: 'mail_queued' },
      { name: 'wrong address', username: 'r2-wrong', email: 'r2-typo@example.jp', outcome: 'email_mismatch' },
      { name: 'unknown user', username: 'r2-nobody', email: 'r2-nobody@example.jp', outcome: 'unknown_user' },
    ] as const;
    const flows = new Map<string, string>();

    test('R1 R2: right address, wrong address and unknown username get the same answer and make the same database changes — one request row, no token, no mail, no address in clear', async () => {
      await p.createUser({ username: 'r2-right', email: 'r2-right@example.jp' });
      await p.createUser({ username: 'r2-wrong', email: 'r2-wrong@example.jp' });
      const answers: Page[] = [];
      const pages: Page[] = [];
      const changes: Array<Record<string, number>> = [];
      for (const k of cases) {
        const c = browser(p);
        const flowId = await toStageTwo(c, k.username);
        flows.set(k.username, flowId);
        const was = await counts(p.database.db);
        const answer = await postStageTwo(c, k.email);
        changes.push(delta(was, await counts(p.database.db)));
        answers.push(answer);
        assert.equal(answer.status, 303, k.name);
        assert.equal(answer.location, `/password-reset?flow=${flowId}`, `${k.name}: back to its own flow`);
        const page = await c.open(answer.location!);
        assert.equal(page.status, 200, k.name);
        assert.ok(page.text.includes(ja['reset.sent.heading']), `${k.name}: the sent page`);
        pages.push(page);

        const flow = await p.database.db
          .selectFrom('flows')
          .select(['state', 'user_id'])
          .where('id', '=', flowId)
          .executeTakeFirstOrThrow();
        assert.deepEqual(
          flow,
          { state: 'sent', user_id: null },
          `${k.name}: the flow is 'sent', tied to no account yet`,
        );
        const rows = await p.database.db
          .selectFrom('reset_requests')
          .selectAll()
          .where('flow_id', '=', flowId)
          .execute();
        assert.equal(rows.length, 1, `${k.name}: exactly one request row`);
        const row = rows[0]!;
        assert.equal(row.identifier, k.username);
        assert.match(row.email_hmac, /^[0-9a-f]{64}$/, `${k.name}: the address is kept as a 64-hex HMAC`);
        assert.notEqual(row.email_hmac, k.email);
        assert.equal(row.lang, 'ja');
        assert.equal(row.ip, c.ip);
        assert.equal(row.user_agent, c.userAgent);
        assert.equal(Number(row.ip_limited), 0);
        const local = k.email.split('@')[0]!;
        for (const [col, value] of Object.entries(row)) {
          const v = String(value).toLowerCase();
          assert.ok(!v.includes(k.email), `${k.name}: column ${col} does not hold the typed address`);
          if (col !== 'identifier')
            assert.ok(!v.includes(`${local}@`), `${k.name}: column ${col} holds no part of the address`);
        }
      }
      for (const [i, k] of cases.entries()) {
        assert.equal(
          answers[i]!.location!.replace(/[A-Za-z0-9]{32}$/, 'X'),
          answers[0]!.location!.replace(/[A-Za-z0-9]{32}$/, 'X'),
          `${k.name}: the same kind of URL`,
        );
        assert.equal(normalised(pages[i]!.body), normalised(pages[0]!.body), `${k.name}: the same sent page`);
        assert.equal(pages[i]!.text.replace(/[A-Za-z0-9]{32}/g, 'X'), pages[0]!.text.replace(/[A-Za-z0-9]{32}/g, 'X'));
        assert.deepEqual(
          changes[i],
          { reset_requests: 1 },
          `${k.name}: one request row and nothing else (no token, no mail, no audit yet)`,
        );
      }
      const hmacs = await p.database.db.selectFrom('reset_requests').select('email_hmac').execute();
      assert.equal(new Set(hmacs.map((h) => h.email_hmac)).size, 3);
      assert.equal(
        (await p.database.db.selectFrom('reset_tokens').select('id').execute()).length,
        0,
        'no reset token before the worker runs',
      );
      assert.equal(
        (await p.database.db.selectFrom('outbox').select('id').execute()).length,
        0,
        'no mail queued before the worker runs',
      );
      assert.equal(p.sink.mails.length, 0);
    });

    test('R2 A1 T2: processResetRequests decides them — mail_queued, email_mismatch, unknown_user in the audit trail; one token and one mail, for the right address only; no request left', async () => {
      assert.equal(flows.size, 3, 'the requests of the previous test are waiting');
      let decided = 0;
      for (let n = await processResetRequests(p.app.services); n > 0; n = await processResetRequests(p.app.services))
        decided += n;
      assert.equal(decided, 3);
      assert.equal(
        (await p.database.db.selectFrom('reset_requests').select('id').execute()).length,
        0,
        'reset_requests is empty',
      );

      const requested = await p.audit('password_reset.requested');
      for (const k of cases) {
        const rows = requested.filter((r) => r.identifier === k.username);
        assert.deepEqual(
          rows.map((r) => r.outcome),
          [k.outcome],
          `${k.name}: audited once, as ${k.outcome}`,
        );
        assert.ok(rows[0]!.ip?.startsWith('10.8.'), `${k.name}: the address of the request is in the audit row`);
        assert.ok(!JSON.stringify(rows[0]).includes(k.email), `${k.name}: the typed address is not in the audit trail`);
      }
      const right = await p.database.db
        .selectFrom('users')
        .select('id')
        .where('username', '=', 'r2-right')
        .executeTakeFirstOrThrow();
      const tokens = await p.database.db.selectFrom('reset_tokens').selectAll().execute();
      assert.equal(tokens.length, 1, 'exactly one reset token');
      assert.equal(tokens[0]!.user_id, right.id);
      assert.equal(tokens[0]!.used_at, null);
      assert.equal(tokens[0]!.cancelled_at, null);
      const outbox = await p.database.db.selectFrom('outbox').selectAll().execute();
      assert.equal(outbox.length, 1, 'exactly one mail queued');
      assert.equal(outbox[0]!.to_addr, 'r2-right@example.jp');
      assert.equal(outbox[0]!.kind, 'password_reset');
      assert.equal(outbox[0]!.subject, RESET_SUBJECT);
      assert.equal(outbox[0]!.user_id, right.id);
      const detail = JSON.parse(requested.find((r) => r.identifier === 'r2-right')!.detail!) as Record<string, unknown>;
      assert.equal(detail.mailId, outbox[0]!.id, 'the audit row names the queued mail');
      assert.equal(detail.tokenId, tokens[0]!.id, 'the audit row names the token');
      assert.equal(await processResetRequests(p.app.services), 0, 'nothing left to decide');
    });
  });

  describe(`reset requests with the mail worker running [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target);
    });
    after(async () => {
      await p?.close();
    });

    test("R2: with the worker running (the default), the right address gets the seed's mail without anything else being called", async () => {
      await p.createUser({ username: 'r2-live', email: 'r2-live@example.jp' });
      const c = browser(p);
      await toStageTwo(c, 'r2-live');
      const answer = await postStageTwo(c, 'r2-live@example.jp');
      assert.equal(answer.status, 303);
      assert.ok((await c.open(answer.location!)).text.includes(ja['reset.sent.heading']));
      const mail = await p.sink.waitFor((m) => m.to.includes('r2-live@example.jp'));
      assert.equal(mail.subject, RESET_SUBJECT);
      assert.equal(mail.from, 'from@mail.iryohokenjyohoportalsite.jp');
      const three = await c.open(pathOf(linkOf(mail)));
      assert.equal(three.status, 200, 'the link in the mail opens stage ③');
      assert.equal(
        (await p.database.db.selectFrom('reset_requests').select('id').execute()).length,
        0,
        'the request was decided and removed',
      );
      assert.deepEqual(
        (await p.audit('password_reset.requested')).map((r) => [r.identifier, r.outcome]),
        [['r2-live', 'mail_queued']],
      );
    });
  });
}

/**
 * Two instances on one PostgreSQL schema, neither worker running (the tests drive processResetRequests): the test
 * portal, and a second app with its own connections to the same database.
 */
async function twoInstances(
  env: Record<string, string>,
): Promise<{ p: TestPortal; second: FastifyInstance; close(): Promise<void> }> {
  const p = await startTestPortal('postgres', { env });
  await p.app.mailWorker.stop();
  const db2: OpenedDatabase = openDatabase(p.database.url, { schema: p.database.schema!, poolSize: 3 });
  const second = await buildApp({
    config: p.config,
    db: db2.db,
    dialect: db2.dialect,
    transport: createSmtpTransport(p.sink.url),
    now: p.clock.now,
    runMailWorker: false,
  });
  await second.ready();
  return {
    p,
    second,
    async close() {
      await second.close();
      await db2.db.destroy();
      await p.close();
    },
  };
}

describe('reset requests decided by two instances at the same time [postgres]', {
  skip: targets.includes('postgres') ? false : 'PostgreSQL does not answer',
}, () => {
  let p: TestPortal;
  let second: FastifyInstance;
  let closeBoth: () => Promise<void>;
  before(async () => {
    ({ p, second, close: closeBoth } = await twoInstances({ RESET_MAILS_PER_ACCOUNT_PER_HOUR: '100' }));
  });
  after(async () => {
    await closeBoth?.();
  });

  /** 20 waiting requests (10 right addresses, 5 wrong, 5 unknown), half answered by each instance; returns each request's expected outcome. */
  async function twentyRequests(tag: string): Promise<Map<string, string>> {
    const expected = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const username = `${tag}-${String(i).padStart(2, '0')}`;
      const kind = i < 10 ? 'mail_queued' : i < 15 ? 'email_mismatch' : 'unknown_user';
      if (kind !== 'unknown_user') await p.createUser({ username, email: `${username}@example.jp` });
      const c = browser(i % 2 ? second : p);
      await toStageTwo(c, username);
      assert.equal(
        (await postStageTwo(c, kind === 'email_mismatch' ? `${username}-typo@example.jp` : `${username}@example.jp`))
          .status,
        303,
      );
      expected.set(username, kind);
    }
    const waiting = await p.database.db.selectFrom('reset_requests').select('identifier').execute();
    assert.equal(waiting.length, 20, '20 requests are waiting');
    return expected;
  }

  async function assertDecidedOnce(tag: string, expected: Map<string, string>): Promise<void> {
    assert.equal(
      (await p.database.db.selectFrom('reset_requests').select('id').execute()).length,
      0,
      'no request left',
    );
    const rows = (await p.audit('password_reset.requested')).filter((r) => r.identifier?.startsWith(`${tag}-`));
    assert.equal(rows.length, 20, `20 audit events, not ${rows.length}`);
    const seen = new Map<string, string[]>();
    for (const r of rows) seen.set(r.identifier!, [...(seen.get(r.identifier!) ?? []), r.outcome]);
    for (const [username, outcome] of expected)
      assert.deepEqual(seen.get(username), [outcome], `${username} decided exactly once, as ${outcome}`);
    const tokens = await p.database.db
      .selectFrom('reset_tokens')
      .innerJoin('users', 'users.id', 'reset_tokens.user_id')
      .select('users.username')
      .where('users.username', 'like', `${tag}-%`)
      .execute();
    assert.equal(tokens.length, 10, 'one token per right-address request');
    assert.equal(new Set(tokens.map((t) => t.username)).size, 10);
    const mails = await p.database.db
      .selectFrom('outbox')
      .select('to_addr')
      .where('to_addr', 'like', `${tag}-%`)
      .execute();
    assert.deepEqual(
      mails.map((m) => m.to_addr).sort(),
      [...expected]
        .filter(([, o]) => o === 'mail_queued')
        .map(([u]) => `${u}@example.jp`)
        .sort(),
      'one mail per right-address request, none for the others',
    );
  }

  test('R2 A1: both instances run processResetRequests at the same time on 20 waiting requests — each request is decided exactly once (20 audit events, no duplicates)', async () => {
    const expected = await twentyRequests('pc');
    const [a, b] = await Promise.all([processResetRequests(p.app.services), processResetRequests(second.services)]);
    // Whatever each took in its first round, draining them both decides all 20 and no more.
    let rest = 0;
    for (let n = 1; n > 0; ) {
      const [x, y] = await Promise.all([processResetRequests(p.app.services), processResetRequests(second.services)]);
      n = x + y;
      rest += n;
    }
    assert.equal(a + b + rest, 20, `decided ${a} + ${b} + ${rest}`);
    await assertDecidedOnce('pc', expected);
  });

  test('R2 A1: both instances draining in small batches, interleaved — still each request once', async () => {
    const expected = await twentyRequests('pd');
    const drain = async (s: FastifyInstance['services']) => {
      let total = 0;
      for (let n = await processResetRequests(s, 3); n > 0; n = await processResetRequests(s, 3)) total += n;
      return total;
    };
    // Two loops per instance, all at once (each instance's pool has several connections).
    const [a1, b1, a2, b2] = await Promise.all([
      drain(p.app.services),
      drain(second.services),
      drain(p.app.services),
      drain(second.services),
    ]);
    assert.equal(a1! + a2! + b1! + b2!, 20, `decided ${a1! + a2!} on one instance and ${b1! + b2!} on the other`);
    await assertDecidedOnce('pd', expected);
  });
});

describe('one account asked for by requests on two instances at once [postgres]', {
  skip: targets.includes('postgres') ? false : 'PostgreSQL does not answer',
}, () => {
  let p: TestPortal;
  let second: FastifyInstance;
  let closeBoth: () => Promise<void>;
  before(async () => {
    ({ p, second, close: closeBoth } = await twoInstances({ RESET_MAILS_PER_ACCOUNT_PER_HOUR: '3' })); // the ceiling, from four addresses
  });
  after(async () => {
    await closeBoth?.();
  });

  test('R3 T2: four requests for one account decided by both instances at the same time — 3 mails (the hourly limit), the fourth rate-limited, and only the newest link open', async () => {
    const user = await p.createUser({ username: 'race-user', email: 'race-user@example.jp' });
    for (let i = 0; i < 4; i++) {
      const c = browser(i % 2 ? second : p);
      await toStageTwo(c, 'race-user');
      assert.equal((await postStageTwo(c, 'race-user@example.jp')).status, 303);
    }
    await Promise.all([processResetRequests(p.app.services, 2), processResetRequests(second.services, 2)]);
    while ((await processResetRequests(p.app.services)) > 0);
    const outcomes = (await p.audit('password_reset.requested'))
      .filter((r) => r.user_id === user.id)
      .map((r) => r.outcome)
      .sort();
    assert.deepEqual(outcomes, ['mail_queued', 'mail_queued', 'mail_queued', 'rate_limited']);
    assert.equal(
      (await p.database.db.selectFrom('outbox').select('id').where('user_id', '=', user.id).execute()).length,
      3,
      'three mails, not four',
    );
    const open = await p.database.db
      .selectFrom('reset_tokens')
      .select('id')
      .where('user_id', '=', user.id)
      .where('used_at', 'is', null)
      .where('cancelled_at', 'is', null)
      .execute();
    assert.equal(open.length, 1, 'one link open at a time');
  });
});
