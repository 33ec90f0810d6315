/**
 * Issue 11 item 9, shutdown within seconds: the real server as a child process, stopped with SIGTERM while a browser
 * holds an idle keep-alive connection, a connection it opened and never used, and a request still in progress.
 * - D4 it answers the request in progress, closes the other connections at once, exits 0 within a few seconds and
 *   logs what it waited for (requests, the mail worker, the database) and how long;
 * - D5 a request that never ends (or an SMTP server that never answers) cannot hold it past SHUTDOWN_TIMEOUT_SECONDS:
 *   it exits non-zero, saying what it was waiting for; the claimed mails not being sent are already back in the queue.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { migrateToLatest, openDatabase } from '../../src/db/database.ts';
import { enqueueMail } from '../../src/mail/outbox.repository.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { freePort, ready, startServer, type ServerProcess } from '../helpers/server-process.ts';

/** A raw socket; `closed` resolves with what it received when the server closes it. */
function socketTo(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString()));
    const closed = new Promise<string>((r) => socket.on('close', () => r(data)));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
  });
}

async function until(what: string, probe: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The JSON log lines of the server whose msg starts with `prefix`. */
function logLines(out: string, prefix: string): Array<Record<string, unknown>> {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => String(l.msg).startsWith(prefix));
}

async function exitWithin(p: ServerProcess, ms: number): Promise<number | null | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.exited, new Promise<'hung'>((res) => (timer = setTimeout(() => res('hung'), ms)))]);
  clearTimeout(timer);
  return r;
}

const SECRET = 'shutdown-test-secret-0123456789-abcdefgh';

async function portal(extra: Record<string, string> = {}, dir = mkdtempSync(join(tmpdir(), 'iryo-stop-'))) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Mails as files on purpose (S8): these tests are about stopping, not mail.
  const server = startServer({
    NODE_ENV: 'production',
    MAIL_FILE_OUTBOX: 'allow',
    PORT: String(port),
    HOST: '127.0.0.1',
    BASE_URL: base,
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${join(dir, 'portal.db')}`,
    SESSION_SECRET: SECRET,
    LOG_LEVEL: 'info',
    ...extra,
  });
  await ready(base, server);
  return {
    dir,
    port,
    base,
    server,
    cleanup: () => {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('shutdown within seconds', () => {
  test('D4: SIGTERM with an idle keep-alive connection, an unused connection and a slow request: the request is answered, the rest closed at once, exit 0 within 3 s, each wait logged', {
    timeout: 60_000,
  }, async () => {
    const p = await portal();
    try {
      // A browser: one keep-alive connection that has loaded a page and now idles …
      const idle = await socketTo(p.port);
      idle.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\n\r\n`);
      await until('the first response', () => /\r\n\r\n\{.*\}/s.test(idle.received()));
      // … one it opened in advance and never used (Chromium does) …
      const unused = await socketTo(p.port);
      // … and a request whose body is still arriving.
      const slow = await socketTo(p.port);
      const body = 'q=' + 'x'.repeat(40);
      slow.socket.write(
        `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
      );
      await new Promise((r) => setTimeout(r, 300));

      const sent = Date.now();
      p.server.child.kill('SIGTERM');
      await idle.closed;
      await unused.closed;
      const idleClosedAfter = Date.now() - sent;
      assert.ok(
        idleClosedAfter < 1500,
        `the idle and the unused connection are closed at once (${idleClosedAfter} ms)`,
      );
      assert.equal(slow.received(), '', 'the request in progress is not cut off');
      await new Promise((r) => setTimeout(r, 700));
      slow.socket.write(body.slice(10));
      const answer = await slow.closed;
      assert.match(answer, /^HTTP\/1\.1 403 /, 'the request in progress gets its answer (here: no CSRF token)');
      assert.match(answer, /\r\nconnection: close\r\n/i);

      assert.equal(await exitWithin(p.server, 3000), 0, `exits with 0 within 3 s\n${p.server.output()}`);
      const out = p.server.output();
      const [start] = logLines(out, 'shutting down');
      assert.ok(start, out);
      assert.equal(start.signal, 'SIGTERM');
      assert.equal(start.timeoutSeconds, 10);
      assert.equal(start.requestsInFlight, 1);
      assert.ok((start.openConnections as number) >= 3, 'the three connections (and the readiness probe) were counted');
      const [http] = logLines(out, 'shutdown: HTTP server closed');
      assert.ok(
        http && (http.waitedMs as number) >= 600 && http.requestsAnswered === 1,
        'it waited for the request, and says how long',
      );
      const [worker] = logLines(out, 'shutdown: mail worker stopped');
      assert.ok(worker && typeof worker.waitedMs === 'number' && worker.mailsHandedBack === 0);
      const [db] = logLines(out, 'shutdown: database');
      assert.ok(db && typeof db.waitedMs === 'number');
      const [done] = logLines(out, 'shutdown complete');
      assert.ok(done && (done.tookMs as number) < 3000);
    } finally {
      p.cleanup();
    }
  });

  test('D5: a request that never ends cannot hold the stop past SHUTDOWN_TIMEOUT_SECONDS: exit non-zero, saying what it waited for', {
    timeout: 60_000,
  }, async () => {
    const p = await portal({ SHUTDOWN_TIMEOUT_SECONDS: '1' });
    try {
      const stuck = await socketTo(p.port);
      stuck.socket.write(
        `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nq=`,
      );
      await new Promise((r) => setTimeout(r, 300));
      const sent = Date.now();
      p.server.child.kill('SIGTERM');
      const code = await exitWithin(p.server, 4000);
      assert.notEqual(code, 'hung', `it stops by the deadline\n${p.server.output()}`);
      assert.notEqual(code, 0, 'and says by its exit code that the shutdown was not clean');
      assert.ok(Date.now() - sent >= 900, 'it gave the request the whole second');
      const [late] = logLines(p.server.output(), 'shutdown deadline reached');
      assert.ok(late, p.server.output());
      assert.equal(late.waitingFor, 'requests in progress');
      assert.equal(late.requestsInFlight, 1);
      await stuck.closed;
    } finally {
      p.cleanup();
    }
  });

  test('D5: when the deadline comes while an SMTP server holds a mail, the other claimed mails are already back in the queue', {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iryo-stop-'));
    const url = `sqlite:${join(dir, 'portal.db')}`;
    let started = 0;
    // An SMTP server that takes the first mail's data and never answers it.
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream) {
        started++;
        stream.resume();
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    const smtpPort = (smtp.server.address() as { port: number }).port;
    const { db } = openDatabase(url);
    let p: Awaited<ReturnType<typeof portal>> | undefined;
    try {
      await migrateToLatest(db);
      const box = createSecretBox(SECRET);
      for (let i = 1; i <= 3; i++)
        await enqueueMail(db, box, Date.now(), {
          kind: 'notice',
          userId: null,
          to: `stop-${i}@example.jp`,
          subject: `お知らせ ${i}`,
          text: `本文 ${i}`,
        });
      p = await portal(
        {
          DATABASE_URL: url,
          SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
          SHUTDOWN_TIMEOUT_SECONDS: '1',
          MAIL_CLAIM_MS: '600000',
        },
        dir,
      );
      await until('the first mail to reach the SMTP server', () => started >= 1, 15_000);
      p.server.child.kill('SIGTERM');
      const code = await exitWithin(p.server, 4000);
      assert.notEqual(code, 'hung', p.server.output());
      assert.notEqual(code, 0);
      const [late] = logLines(p.server.output(), 'shutdown deadline reached');
      assert.equal(late?.waitingFor, 'mail worker (the mail being sent)', p.server.output());
      const rows = await db
        .selectFrom('outbox')
        .select(['to_addr', 'status', 'claimed_until'])
        .orderBy('to_addr')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.to_addr, r.status, r.claimed_until === null]),
        [
          ['stop-1@example.jp', 'sending', false],
          ['stop-2@example.jp', 'queued', true],
          ['stop-3@example.jp', 'queued', true],
        ],
        'only the mail being sent keeps its claim (it expires after MAIL_CLAIM_MS); the others wait for the next start',
      );
    } finally {
      p?.cleanup();
      await db.destroy();
      smtp.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('D5: SHUTDOWN_TIMEOUT_SECONDS is 10 by default and refuses values outside 1–600', () => {
    assert.equal(loadConfig({}, { persistSecret: false }).shutdownTimeoutSeconds, 10);
    assert.equal(loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: '25' }, { persistSecret: false }).shutdownTimeoutSeconds, 25);
    for (const bad of ['0', '601', '5s', '-1']) {
      assert.throws(
        () => loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: bad }, { persistSecret: false }),
        (e: unknown) => e instanceof ConfigError && /SHUTDOWN_TIMEOUT_SECONDS/.test(e.message),
      );
    }
  });
});
