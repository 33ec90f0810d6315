/**
 * Operability (issue 5, item 3): /healthz, /readyz with the database, Redis and mail state (outbox and the stage-②
 * reset requests waiting for the worker), Prometheus /metrics (requests, logins, resets, outbox depth and failures),
 * only for loopback callers or with METRICS_TOKEN, and a request id on every response.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { processResetRequests } from '../../src/flows/recovery/recovery.flow.ts';
import { dbTargets, redisAvailable } from '../helpers/db-targets.ts';
import { CAPTCHA, Client, startTestPortal, type TestPortal } from '../helpers/test-app.ts';

const redis = await redisAvailable();

for (const target of await dbTargets()) {
  describe(`operability [${target}${redis ? ', Redis' : ''}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target, { redis });
      await p.app.mailWorker.stop(); // the outbox and the requests are driven by hand below
    });
    after(async () => {
      await p?.close();
    });

    const get = (url: string, ip = '127.0.0.1', headers: Record<string, string> = {}) =>
      p.app.inject({ method: 'GET', url, remoteAddress: ip, headers });

    test('/healthz answers while the process runs; every response carries its own request id', async () => {
      const a = await get('/healthz');
      const b = await get('/healthz');
      assert.equal(a.statusCode, 200);
      const body = a.json() as { status: string; uptimeSeconds: number };
      assert.equal(body.status, 'ok');
      assert.ok(Number.isInteger(body.uptimeSeconds));
      assert.match(String(a.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
      assert.equal(a.headers['cache-control'], 'no-store');
    });

    test('/readyz: database and Redis answer; the mail state counts the reset requests waiting for the worker and the queued mail, with their ages', async () => {
      const ready = await get('/readyz');
      assert.equal(ready.statusCode, 200);
      const r0 = ready.json() as {
        status: string;
        database: boolean;
        redis: boolean | null;
        mail: Record<string, number | null>;
      };
      assert.equal(r0.status, 'ready');
      assert.equal(r0.database, true);
      assert.equal(r0.redis, redis ? true : null);
      assert.deepEqual(r0.mail, {
        queued: 0,
        failed: 0,
        oldestUndeliveredSeconds: null,
        resetRequestsWaiting: 0,
        oldestResetRequestSeconds: null,
      });

      await p.createUser({ username: 'ops-user', email: 'ops-user@example.jp' });
      const c = new Client(p.app);
      c.ip = '198.51.100.31';
      await c.open('/password-reset');
      await c.submit({ stage: 'identify', action: 'next', username: 'ops-user', captcha: CAPTCHA });
      await c.submit({ stage: 'verify', action: 'next', email: 'ops-user@example.jp' });
      p.clock.advance(30_000);
      const waiting = (await get('/readyz')).json() as { mail: Record<string, number | null> };
      assert.equal(waiting.mail.resetRequestsWaiting, 1, 'the request waits for the worker');
      assert.equal(waiting.mail.oldestResetRequestSeconds, 30);
      assert.equal(waiting.mail.queued, 0);

      assert.equal(await processResetRequests(p.app.services), 1);
      p.clock.advance(60_000);
      const queued = (await get('/readyz')).json() as { mail: Record<string, number | null> };
      assert.equal(queued.mail.resetRequestsWaiting, 0);
      assert.equal(queued.mail.queued, 1, 'its mail is in the outbox');
      assert.equal(queued.mail.oldestUndeliveredSeconds, 60);
    });

    test('/metrics L1 R1 G6: requests by route, logins and resets by an outcome that hides unknown users, wrong passwords and mismatches; outbox depth and waiting requests; for loopback callers only', async () => {
      const c = new Client(p.app);
      c.ip = '198.51.100.32';
      await c.open('/login');
      await c.submit({ username: 'no-such-user', password: 'Wrong-Pass-2026' });
      await c.open('/login');
      await c.submit({ username: 'ops-user', password: 'Wrong-Pass-2026' });
      await c.open('/password-reset');
      await c.submit({ stage: 'identify', action: 'next', username: 'no-such-user', captcha: CAPTCHA });
      await c.submit({ stage: 'verify', action: 'next', email: 'x@example.jp' });
      await c.open('/password-reset');
      await c.submit({ stage: 'identify', action: 'next', username: 'ops-user', captcha: CAPTCHA });
      await c.submit({ stage: 'verify', action: 'next', email: 'not-ops-user@example.jp' });
      const before = (await get('/metrics')).body;
      assert.match(before, /^iryo_reset_requests_waiting 2$/m);
      await processResetRequests(p.app.services);

      const m = await get('/metrics');
      assert.equal(m.statusCode, 200);
      assert.match(String(m.headers['content-type']), /^text\/plain/);
      const text = m.body;
      assert.match(text, /^iryo_http_requests_total\{method="POST",route="\/login",status="401"\} 2$/m);
      assert.match(text, /^iryo_http_request_duration_seconds_count\{method="GET",route="\/password-reset"\} \d+$/m);
      // An unknown user and a wrong password are one label; a queued mail (the test before), an unknown user and a
      // mismatched address are one label too. The audit trail keeps them apart for the call center.
      assert.match(text, /^iryo_logins_total\{outcome="failed"\} 2$/m);
      assert.doesNotMatch(text, /^iryo_logins_total\{outcome="(unknown_user|bad_password|locked)"\}/m);
      assert.match(text, /^iryo_password_reset_requests_total\{outcome="accepted"\} 3$/m);
      assert.doesNotMatch(
        text,
        /^iryo_password_reset_requests_total\{outcome="(mail_queued|unknown_user|email_mismatch|provisional_address)"\}/m,
      );
      assert.deepEqual(
        (await p.audit('login')).filter((a) => a.ip === c.ip).map((a) => a.outcome),
        ['unknown_user', 'bad_password'],
      );
      assert.match(text, /^iryo_outbox_depth 1$/m);
      assert.match(text, /^iryo_outbox_failed 0$/m);
      assert.match(text, /^iryo_reset_requests_waiting 0$/m);
      // The default process and Node.js metrics under their standard names, as stock dashboards read them.
      assert.match(text, /^process_resident_memory_bytes \d+/m, 'and the process metrics');
      assert.match(text, /^process_cpu_user_seconds_total [\d.e+-]+$/m);
      assert.match(text, /^nodejs_heap_size_total_bytes \d+/m);
      assert.match(text, /^nodejs_eventloop_lag_seconds [\d.e+-]+$/m);
      assert.doesNotMatch(text, /^iryo_(process|nodejs)_/m, 'not renamed with the portal prefix');

      const outside = await get('/metrics', '203.0.113.9');
      assert.equal(outside.statusCode, 403, 'not for other addresses');
      assert.equal(outside.body, 'forbidden\n');
    });
  });
}

describe('/metrics with METRICS_TOKEN', () => {
  let p: TestPortal;
  before(async () => {
    p = await startTestPortal('sqlite', { env: { METRICS_TOKEN: 'metrics-token-for-tests-0123456789' } });
  });
  after(async () => {
    await p?.close();
  });

  test('the bearer token opens it from any address; without it (loopback too) or with another, 403', async () => {
    const get = (ip: string, authorization?: string) =>
      p.app.inject({
        method: 'GET',
        url: '/metrics',
        remoteAddress: ip,
        headers: authorization ? { authorization } : {},
      });
    const ok = await get('203.0.113.9', 'Bearer metrics-token-for-tests-0123456789');
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /^iryo_outbox_depth 0$/m);
    assert.equal((await get('203.0.113.9', 'Bearer wrong')).statusCode, 403);
    assert.equal((await get('127.0.0.1')).statusCode, 403, 'once a token is set, loopback needs it too');
  });
});
