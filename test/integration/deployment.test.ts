/**
 * The deployment recipe in deploy/ (issue 5), as an operator runs it:
 * Every server here is the production build (npm run build → node dist/server.js, the systemd unit's command).
 * - graceful shutdown: SIGTERM answers the request in progress, refuses new connections, finishes the mail being
 *   sent and gives the other claimed mails back to the queue, so the next start delivers each exactly once;
 * - deploy/backup.sh and deploy/restore.sh on SQLite and PostgreSQL, with the session secret;
 * - deploy/test-deployment.sh: nginx (Debian package) in front of two PostgreSQL/Redis instances of the build (plain
 *   node, no loader: checked from /proc/PID/cmdline), the whole reset
 *   journey through it while one instance is restarted (it prints one PASS/FAIL line; exit 77 means it cannot run here).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migrateToLatest, openDatabase, type OpenedDatabase } from '../../src/db/database.ts';
import { createUser } from '../../src/accounts/create-user.ts';
import { POLICIES } from '../../src/accounts/password-policy.ts';
import { enqueueMail } from '../../src/mail/outbox.repository.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { appendAudit, chainAllAudit } from '../../src/security/audit.repository.ts';
import { verifyAudit } from '../../src/security/audit-verify.repository.ts';
import { auditKeyFrom } from '../../src/security/audit-key.ts';
import { dbTargets, PG_URL, redisAvailable } from '../helpers/db-targets.ts';
import { buildPortal } from '../../scripts/build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'deployment-test-secret-0123456789-abcdef';
const PASSWORD = 'Deploy2026Pass';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The built server as systemd starts it (node dist/server.js); the describe blocks build dist/ first. */
function startServer(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function exitWithin(p: Proc, ms: number): Promise<number | null | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.exited, new Promise<'hung'>((res) => (timer = setTimeout(() => res('hung'), ms)))]);
  clearTimeout(timer);
  return r;
}

/** An SMTP server that can be made slow: it holds each mail `delayMs` before accepting it. */
async function slowSink() {
  const received: { to: string; subject: string }[] = [];
  let started = 0;
  const sink = {
    delayMs: 0,
    received,
    get started() {
      return started;
    },
    port: 0,
    server: new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        started++;
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          const parsed = await simpleParser(Buffer.concat(chunks));
          setTimeout(() => {
            received.push({
              to: session.envelope.rcptTo.map((r) => r.address).join(','),
              subject: parsed.subject ?? '',
            });
            callback();
          }, sink.delayMs);
        });
      },
    }),
  };
  await new Promise<void>((resolve) => sink.server.listen(0, '127.0.0.1', () => resolve()));
  sink.port = (sink.server.server.address() as { port: number }).port;
  return sink;
}

/** A raw HTTP/1.1 request whose body is sent in two parts, so that it is still in progress when we want. */
function slowPost(port: number, path: string, headers: Record<string, string>, body: string) {
  const socket = connect(port, '127.0.0.1');
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString()));
  const ended = new Promise<string>((resolve) => socket.on('close', () => resolve(response)));
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Content-Type: application/x-www-form-urlencoded',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ].join('\r\n');
  const half = Math.floor(body.length / 2);
  socket.write(`${head}\r\n\r\n${body.slice(0, half)}`);
  return { finish: () => socket.write(body.slice(half)), response: ended };
}

describe('graceful shutdown', () => {
  before(() => buildPortal());

  test('SIGTERM: the request in progress is answered, new connections are refused, the mail being sent is delivered and the other claimed mails go back to the queue; the next start delivers each exactly once', {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iryo-grace-'));
    const url = `sqlite:${join(dir, 'portal.db')}`;
    const sink = await slowSink();
    const { db } = openDatabase(url);
    let server: Proc | undefined;
    try {
      await migrateToLatest(db);
      assert.ok(
        (
          await createUser(db, POLICIES.portal, Date.now(), {
            username: 'grace-user',
            email: 'grace@example.jp',
            password: PASSWORD,
            displayName: '猶予クリニック',
          })
        ).ok,
      );
      const box = createSecretBox(SECRET);
      for (let i = 1; i <= 4; i++)
        await enqueueMail(db, box, Date.now(), {
          kind: 'notice',
          userId: null,
          to: `grace-${i}@example.jp`,
          subject: `お知らせ ${i}`,
          text: `本文 ${i}`,
        });

      sink.delayMs = 2500;
      const port = await freePort();
      const env = {
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        BASE_URL: `http://127.0.0.1:${port}`,
        DATA_DIR: dir,
        DATABASE_URL: url,
        SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
        SESSION_SECRET: SECRET,
        MAIL_CLAIM_MS: '600000',
        LOG_LEVEL: 'warn',
      };
      server = startServer(env);
      const base = `http://127.0.0.1:${port}`;
      // The worker claims the four mails at once and is delivering the first one (the SMTP server holds it).
      await until('the first mail to reach the SMTP server', () => (sink.started >= 1 ? true : undefined));
      const claimed = await db.selectFrom('outbox').select('status').execute();
      assert.deepEqual(
        claimed.map((r) => r.status),
        ['sending', 'sending', 'sending', 'sending'],
        'the worker holds all four',
      );

      // A login whose body is still arriving when SIGTERM comes.
      const login = await fetch(`${base}/login`);
      const cookie = login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!;
      const post = slowPost(
        port,
        '/login',
        { Cookie: cookie },
        new URLSearchParams({ username: 'grace-user', password: PASSWORD, _csrf: csrf }).toString(),
      );
      await new Promise((r) => setTimeout(r, 200));
      server.child.kill('SIGTERM');
      await until(
        'the listener to close',
        async () =>
          (await fetch(`${base}/healthz`).then(
            () => false,
            () => true,
          ))
            ? true
            : undefined,
        10_000,
      );
      post.finish();
      const response = await post.response;
      assert.match(response, /^HTTP\/1\.1 303 /, 'the login in progress is answered');
      assert.match(response, /\r\nlocation: \/csm\r\n/i, 'and it succeeded');

      assert.equal(await exitWithin(server, 20_000), 0, 'exits with 0');
      assert.deepEqual(
        sink.received.map((m) => m.to),
        ['grace-1@example.jp'],
        'the mail being sent was finished, no other was started',
      );
      const after = await db
        .selectFrom('outbox')
        .select(['to_addr', 'status', 'claimed_until'])
        .orderBy('to_addr')
        .execute();
      assert.deepEqual(
        after.map((r) => [r.to_addr, r.status, r.claimed_until]),
        [
          ['grace-1@example.jp', 'sent', null],
          ['grace-2@example.jp', 'queued', null],
          ['grace-3@example.jp', 'queued', null],
          ['grace-4@example.jp', 'queued', null],
        ],
        'the claims were given back at once (not left to expire)',
      );

      // The next start (or another instance) delivers the rest, each once.
      sink.delayMs = 0;
      server = startServer(env);
      await until('the three other mails', () => (sink.received.length >= 4 ? true : undefined));
      server.child.kill('SIGTERM');
      assert.equal(await exitWithin(server, 20_000), 0);
      assert.deepEqual(sink.received.map((m) => m.to).sort(), [
        'grace-1@example.jp',
        'grace-2@example.jp',
        'grace-3@example.jp',
        'grace-4@example.jp',
      ]);
    } finally {
      if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
      await db.destroy();
      await new Promise<void>((r) => sink.server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- backup and restore ------------------------------------------------------------------------------------

const pgUp = (await dbTargets()).includes('postgres');

async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Where the portal's data lives in each layout: a SQLite file, a PostgreSQL schema, a database of its own. */
interface Layout {
  name: string;
  url: string;
  /** Where the secret comes from: SESSION_SECRET (environment) or DATA_DIR/session-secret. */
  secretFrom: 'env' | 'file';
  drop(): Promise<void>;
}

async function layout(name: string, dir: string): Promise<Layout> {
  const id = randomBytes(4).toString('hex');
  if (name === 'sqlite')
    return { name, url: `sqlite:${join(dir, 'data', 'portal.db')}`, secretFrom: 'file', drop: async () => undefined };
  if (name === 'postgres schema') {
    await pgAdmin(`create schema bk_${id}`);
    return {
      name,
      url: `${PG_URL}?options=-c%20search_path%3Dbk_${id}`,
      secretFrom: 'env',
      drop: () => pgAdmin(`drop schema if exists bk_${id} cascade`),
    };
  }
  await pgAdmin(`create database iryo_bk_${id}`);
  const u = new URL(PG_URL);
  u.pathname = `/iryo_bk_${id}`;
  return {
    name,
    url: u.toString(),
    secretFrom: 'file',
    drop: () => pgAdmin(`drop database if exists iryo_bk_${id} with (force)`),
  };
}

function runScript(script: string, args: string[], env: Record<string, string>) {
  const r = spawnSync('bash', [join(ROOT, 'deploy', script), ...args], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

const layouts = pgUp ? ['sqlite', 'postgres schema', 'postgres database'] : ['sqlite'];
for (const name of layouts) {
  describe(`backup and restore [${name}]`, () => {
    test('backup.sh copies the live database and the session secret; restore.sh brings both back, so a sealed queued mail opens again', {
      timeout: 60_000,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'iryo-backup-'));
      const where = await layout(name, dir);
      const secret = `backup-secret-${randomBytes(16).toString('hex')}`;
      const env: Record<string, string> = {
        DATABASE_URL: where.url,
        DATA_DIR: join(dir, 'data'),
        ...(where.secretFrom === 'env' ? { SESSION_SECRET: secret } : {}),
      };
      let opened: OpenedDatabase | undefined = openDatabase(where.url);
      try {
        await migrateToLatest(opened.db);
        mkdirSync(join(dir, 'data'), { recursive: true });
        if (where.secretFrom === 'file')
          writeFileSync(join(dir, 'data', 'session-secret'), `${secret}\n`, { mode: 0o600 });
        const kept = await createUser(opened.db, POLICIES.portal, Date.now(), {
          username: 'kept-user',
          email: 'kept@example.jp',
          password: PASSWORD,
        });
        assert.ok(kept.ok);
        await appendAudit(opened.db, Date.now(), {
          event: 'user.created',
          outcome: 'ok',
          userId: kept.user.id,
          actor: 'cli:test',
        });
        // Chained as the CLI or the portal does at once (audit verify chains nothing itself, H12).
        await chainAllAudit(opened.db, opened.dialect, auditKeyFrom('deployment-test-audit-key-0123456789-abcdef'));
        const mailId = await enqueueMail(opened.db, createSecretBox(secret), Date.now(), {
          kind: 'notice',
          userId: null,
          to: 'kept@example.jp',
          subject: '件名',
          text: '封をした本文',
        });

        // Online: the portal's connection is open and the last writes are still in the WAL, so a plain copy of
        // portal.db would miss them; the backup must not.
        if (name === 'sqlite') {
          copyFileSync(join(dir, 'data', 'portal.db'), join(dir, 'plain-copy.db'));
          const plain = new Database(join(dir, 'plain-copy.db'), { readonly: true });
          let found = 0;
          try {
            found = (
              plain.prepare("select count(*) as n from users where username = 'kept-user'").get() as { n: number }
            ).n;
          } catch {
            found = 0;
          }
          plain.close();
          assert.equal(found, 0, 'precondition: cp of portal.db alone does not hold the account yet');
        }
        const backups: string[] = [];
        for (const tool of name === 'sqlite' ? ['sqlite3', 'node'] : ['']) {
          const r = runScript('backup.sh', [join(dir, `backups-${tool || 'pg'}`)], {
            ...env,
            ...(tool === 'node' ? { IRYO_SQLITE_TOOL: 'node' } : {}),
          });
          assert.equal(r.code, 0, r.out);
          const out = r.stdout.trim().split('\n').at(-1)!;
          const files = readdirSync(out).sort();
          assert.deepEqual(
            files,
            ['MANIFEST', name === 'sqlite' ? 'database.sqlite3' : 'database.pgdump', 'session-secret'].sort(),
            'one self-contained file, the secret and the manifest',
          );
          assert.equal(readFileSync(join(out, 'session-secret'), 'utf8').trim(), secret);
          assert.equal(
            statSync(join(out, 'session-secret')).mode & 0o077,
            0,
            'the secret is readable by its owner only',
          );
          assert.match(readFileSync(join(out, 'MANIFEST'), 'utf8'), /^[0-9a-f]{64} {2}session-secret$/m);
          backups.push(out);
        }

        // Changes after the backup, then the instances stop (and, for a file secret, the machine is new).
        assert.ok(
          (
            await createUser(opened.db, POLICIES.portal, Date.now(), {
              username: 'later-user',
              email: 'later@example.jp',
              password: PASSWORD,
            })
          ).ok,
        );
        await opened.db.destroy();
        opened = undefined;
        if (where.secretFrom === 'file') rmSync(join(dir, 'data', 'session-secret'));
        const backup = backups.at(-1)!;

        const refused = runScript('restore.sh', [backup], env);
        assert.equal(refused.code, 1);
        assert.match(refused.out, /pass --yes/);
        if (where.secretFrom === 'env') {
          const otherSecret = runScript('restore.sh', ['--yes', backup], {
            ...env,
            SESSION_SECRET: 'another-secret-another-secret-another-secret',
          });
          assert.equal(otherSecret.code, 1);
          assert.match(otherSecret.out, /SESSION_SECRET differs from the backed-up secret/);
        }
        const restored = runScript('restore.sh', ['--yes', backup], env);
        assert.equal(restored.code, 0, restored.out);
        assert.match(restored.out, /Restored the (sqlite|postgres) database/);

        opened = openDatabase(where.url);
        const names = (await opened.db.selectFrom('users').select('username').orderBy('username').execute()).map(
          (u) => u.username,
        );
        assert.deepEqual(names, ['kept-user'], 'the state of the backup, without the later change');
        const usedSecret =
          where.secretFrom === 'env' ? secret : readFileSync(join(dir, 'data', 'session-secret'), 'utf8').trim();
        const mail = await opened.db
          .selectFrom('outbox')
          .select('body_enc')
          .where('id', '=', mailId)
          .executeTakeFirstOrThrow();
        assert.equal(
          createSecretBox(usedSecret).open(mail.body_enc),
          '封をした本文',
          'the queued mail can be opened with the restored secret',
        );
        const audit = await verifyAudit(opened.db, auditKeyFrom('deployment-test-audit-key-0123456789-abcdef'));
        assert.deepEqual(audit.problems, [], 'the audit chain is intact');
        assert.equal(audit.count, 1);
      } finally {
        await opened?.db.destroy();
        await where.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

// ---- the whole recipe: nginx, two instances, a restart --------------------------------------------------------

const nginxFound = spawnSync('sh', ['-c', 'command -v nginx || test -x /usr/sbin/nginx']).status === 0;
const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0;
const redisUp = await redisAvailable();
const recipeSkip = !pgUp
  ? 'needs PostgreSQL'
  : !redisUp
    ? 'needs Redis'
    : !nginxFound && !canInstall
      ? 'needs nginx (apt-get install nginx) or root with apt-get'
      : false;
// A run restricted to SQLite (TEST_DB_TARGETS=sqlite: CI's second Node version) skips the recipe on purpose; the
// first run of CI has PostgreSQL and must run it.
if (recipeSkip && process.env.CI === 'true' && process.env.TEST_DB_TARGETS !== 'sqlite')
  throw new Error(`CI=true but the deployment test cannot run: ${recipeSkip}`);

describe('nginx in front of two instances', { skip: recipeSkip }, () => {
  test('deploy/test-deployment.sh: the reset journey through nginx over HTTPS to two instances of the build under plain node, one restarted midway, links from BASE_URL, no token in any log (T4, T5)', {
    timeout: 200_000,
  }, async (t) => {
    const child = spawn('bash', [join(ROOT, 'deploy', 'test-deployment.sh')], {
      cwd: ROOT,
      env: { ...process.env, DEPLOY_TEST_TIMEOUT: '150' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code === 77) {
      const reason = /^SKIP deployment: (.*)$/m.exec(stdout)?.[1] ?? 'a prerequisite is missing';
      if (process.env.CI === 'true') assert.fail(`CI=true but ${reason}`);
      t.skip(reason);
      return;
    }
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^PASS deployment: /m);
    assert.match(
      stdout,
      /both instances run the build with plain node \(\S*node dist\/server\.js\), no loader/,
      'the instances are the build, not src/ through tsx',
    );
  });
});
