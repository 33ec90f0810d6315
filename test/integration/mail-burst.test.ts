/**
 * H11 (issue 10 item 11): a burst of stage-② requests and of mails does not exhaust memory. The real server runs
 * as a child process with a small heap (--max-old-space-size=96); over a thousand stage-② requests arrive at once
 * through HTTP (each one kicks the mail worker), a quarter of them for a real account, so that hundreds of mails
 * go to the SMTP sink meanwhile. The server stays alive (/healthz), its resident memory stays bounded (VmHWM
 * from /proc), and the requests are all decided and the mails delivered (R2: the worker, never the request, sends).
 * With the old worker (one waiter chained per kick during a round) the PostgreSQL run fails: after the work it went
 * on through hundreds of rounds (395 in 1.5 s when tried). On SQLite, whose queries block the event loop, few kicks
 * land during a round and the old worker passed too: there the test shows the bound, not the bug.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from '../../src/accounts/create-user.ts';
import { POLICIES } from '../../src/accounts/password-policy.ts';
import { dbTargets, freshDatabase, PG_URL, type TargetName, type TestDatabase } from '../helpers/db-targets.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { CAPTCHA, GOOD_PASSWORD } from '../helpers/test-app.ts';
import { freePort, ready, startServer, type ServerProcess } from '../helpers/server-process.ts';

const FLOWS = 1200;
const HEAP_MB = 96;
/** Resident memory allowed at its peak: the heap cap plus code, tsx's compiled modules and buffers. */
const PEAK_RSS_MB = 320;

interface Answer {
  status: number;
  location: string | undefined;
  cookies: string[];
  body: string;
}

/** One HTTP request through a pool of 200 sockets (thousands of requests started at once queue in the pool). */
function http(
  agent: Agent,
  port: number,
  method: 'GET' | 'POST',
  path: string,
  cookie: string,
  form?: Record<string, string>,
): Promise<Answer> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          cookie,
          'user-agent': 'BurstTest/1.0',
          ...(body
            ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }
            : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            cookies: res.headers['set-cookie'] ?? [],
            body: text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The worker's rounds so far and the V8 heap in use, from /metrics (loopback callers need no token). */
async function metricsOf(agent: Agent, port: number): Promise<{ rounds: number; heapMb: number }> {
  const text = (await http(agent, port, 'GET', '/metrics', '')).body;
  const value = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { rounds: value('iryo_mail_worker_rounds_total'), heapMb: value('nodejs_heap_size_used_bytes') / 1048576 };
}

function memoryOf(pid: number): { hwmMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`H11: a burst of stage-② requests and mails against the real server with a ${HEAP_MB} MB heap [${target}]`, () => {
    let database: TestDatabase;
    let sink: SmtpSink;
    let server: ServerProcess;
    let dir: string;
    let port: number;
    const agent = new Agent({ keepAlive: true, maxSockets: 200 });
    /** The burst's connections: as many browsers submitting at once, each request kicking the worker. */
    const burst = new Agent({ keepAlive: true, maxSockets: 32 });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'iryo-burst-'));
      database = await freshDatabase(target as TargetName);
      const made = await createUser(database.db, POLICIES.portal, Date.now(), {
        username: 'burst-user',
        email: 'burst@example.jp',
        password: GOOD_PASSWORD,
        displayName: '負荷医院',
      });
      assert.ok(made.ok);
      sink = await startSmtpSink();
      port = await freePort();
      const url = target === 'sqlite' ? database.url : `${PG_URL}?options=-c%20search_path%3D${database.schema}`;
      server = startServer(
        {
          HOME: dir,
          NODE_ENV: 'test',
          CAPTCHA_TEST_ANSWER: CAPTCHA,
          PORT: String(port),
          HOST: '127.0.0.1',
          BASE_URL: 'https://portal.example.jp',
          DATABASE_URL: url,
          SMTP_URL: sink.url,
          DATA_DIR: dir,
          LOG_LEVEL: 'warn',
          SESSION_SECRET: 'burst-test-secret-burst-test-secret-0123',
          FLOOD_LIMIT_PER_MINUTE: '10000000',
          RESET_REQUESTS_PER_IP_PER_HOUR: '100000',
          RESET_MAILS_PER_ACCOUNT_PER_HOUR: '1000',
          RESET_MAILS_PER_ACCOUNT_PER_IP_PER_HOUR: '1000',
        },
        [`--max-old-space-size=${HEAP_MB}`],
      );
      await ready(`http://127.0.0.1:${port}`, server);
    });

    after(async () => {
      if (server?.child.exitCode === null) {
        server.child.kill('SIGTERM');
        await new Promise((r) => server.child.once('exit', r));
      }
      agent.destroy();
      burst.destroy();
      await sink?.stop();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test(`${FLOWS} stage-② requests at once: the server stays alive, its memory bounded; every request is decided and each mail sent`, {
      timeout: 90_000,
    }, async (t) => {
      // One browser (one cookie jar) with many flows. Setup, not the burst yet: each flow is started through HTTP and
      // then moved past stage ① in the database (the CAPTCHA of stage ① is not what this test is about).
      const start = await http(agent, port, 'GET', '/password-reset', '');
      const jar = new Map<string, string>();
      const keep = (a: Answer) => {
        for (const c of a.cookies) {
          const [pair] = c.split(';');
          const i = pair!.indexOf('=');
          jar.set(pair!.slice(0, i), pair!.slice(i + 1));
        }
      };
      keep(start);
      const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const page = await http(agent, port, 'GET', start.location!, cookie());
      keep(page);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const paths = await Promise.all(
        Array.from(
          { length: FLOWS },
          async () => (await http(agent, port, 'GET', '/password-reset', cookie())).location!,
        ),
      );
      const flows = paths.map((path, i) => ({
        path,
        id: new URL(path, 'http://x').searchParams.get('flow')!,
        real: i % 4 === 0,
      }));
      for (const real of [true, false]) {
        await database.db
          .updateTable('flows')
          .set({
            state: 'verify',
            identifier: real ? 'burst-user' : 'nobody',
            captcha_hash: null,
            captcha_answer: null,
            captcha_expires_at: null,
          })
          .where(
            'id',
            'in',
            flows.filter((f) => f.real === real).map((f) => f.id),
          )
          .execute();
      }
      const before = memoryOf(server.child.pid!);
      const roundsBefore = (await metricsOf(agent, port)).rounds;

      // The burst: every stage-② request at once.
      const t0 = Date.now();
      const answers = await Promise.all(
        flows.map((f) =>
          http(burst, port, 'POST', f.path, cookie(), {
            stage: 'verify',
            action: 'next',
            email: f.real ? 'burst@example.jp' : 'someone@example.jp',
            _csrf: csrf,
          }),
        ),
      );
      const burstMs = Date.now() - t0;
      assert.deepEqual(
        [...new Set(answers.map((a) => a.status))],
        [303],
        'every stage-② request was answered with the same 303 (R1)',
      );

      // Meanwhile the worker decides the requests and sends the mails; the server keeps answering.
      const mails = FLOWS / 4;
      let peak = before.hwmMb;
      let peakHeap = 0;
      const until = Date.now() + 60_000;
      for (;;) {
        const health = await http(agent, port, 'GET', '/healthz', '');
        assert.equal(health.status, 200, `the server answers /healthz (it is alive)\n${server.output().slice(-2000)}`);
        peak = Math.max(peak, memoryOf(server.child.pid!).hwmMb);
        peakHeap = Math.max(peakHeap, (await metricsOf(agent, port)).heapMb);
        const left = await database.db
          .selectFrom('reset_requests')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        if (Number(left.n) === 0 && sink.mails.length >= mails) break;
        assert.ok(Date.now() < until, `requests left ${left.n}, mails ${sink.mails.length} of ${mails}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const roundsDone = (await metricsOf(agent, port)).rounds - roundsBefore;
      // Idle now: the worker only polls (once a second), it does not work through one round per kick.
      await new Promise((r) => setTimeout(r, 1500));
      const roundsIdle = (await metricsOf(agent, port)).rounds - roundsBefore - roundsDone;
      const afterAll = memoryOf(server.child.pid!);
      t.diagnostic(
        `setup done at ${before.hwmMb.toFixed(0)} MB; burst answered in ${burstMs} ms; peak ${peak.toFixed(0)} MB, heap ${peakHeap.toFixed(0)} MB; now ${afterAll.rssMb.toFixed(0)} MB; rounds ${roundsDone} + ${roundsIdle} idle`,
      );
      assert.equal(server.child.exitCode, null, 'the server is still running');
      assert.doesNotMatch(server.output(), /heap out of memory|FATAL ERROR/i);
      assert.equal(sink.mails.length, mails, 'one mail per stage-② request of the real account, none twice');
      assert.ok(sink.mails.every((m) => m.to.includes('burst@example.jp')));
      const queued = await database.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('event', '=', 'password_reset.requested')
        .executeTakeFirstOrThrow();
      assert.equal(Number(queued.n), FLOWS, 'every request is in the audit trail');
      // Once the work is done the worker only polls (once a second). With one waiter chained per kick it would go
      // on working through hundreds of rounds, each re-chaining every waiter left (the heap growing with them).
      assert.ok(
        roundsIdle <= 4,
        `idle, the worker only polls (${roundsIdle} rounds in 1.5 s after the work, ${roundsDone} for the work)`,
      );
      assert.ok(peakHeap < HEAP_MB, `heap in use at most ${peakHeap.toFixed(0)} MB`);
      assert.ok(
        peak < PEAK_RSS_MB,
        `peak resident memory ${peak.toFixed(0)} MB (before the burst ${before.hwmMb.toFixed(0)} MB, now ${afterAll.rssMb.toFixed(0)} MB, burst answered in ${burstMs} ms) stays under ${PEAK_RSS_MB} MB`,
      );
    });
  });
}
