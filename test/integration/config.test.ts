/**
 * The server as an operator starts it (`node --import tsx src/server.ts`): a bad setting stops it with one
 * clear line; a real start prints the demo accounts, serves login and the whole reset over real HTTP,
 * writes mail as .eml files without SMTP, never logs the token (T5), and stops on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { ja } from '../../src/web/i18n/ja.ts';
import { SESSION_SECRET_PLACEHOLDER } from '../../src/config.ts';
import { freePort, runToEnd, serverEnv, startServer, type ProcessRun } from '../helpers/server-process.ts';

const CAPTCHA = 'w7rbh';

/** Runs the server to its end; returns the exit code and what it printed on each stream. */
function runToExit(env: Record<string, string>): Promise<ProcessRun> {
  // Only a hung start is killed (slow machines take long).
  return runToEnd([process.execPath, '--import', 'tsx', 'src/server.ts'], serverEnv(env), { killAfterMs: 90_000 });
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A browser over real HTTP: keeps cookies, never follows redirects by itself. */
class Http {
  cookies = new Map<string, string>();
  constructor(private origin: string) {}
  async send(method: 'GET' | 'POST', path: string, form?: Record<string, string>) {
    const res = await fetch(this.origin + path, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const value = pair!.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(pair!.slice(0, i));
      else this.cookies.set(pair!.slice(0, i), value);
    }
    const body = await res.text();
    return {
      status: res.status,
      location: res.headers.get('location') ?? undefined,
      body,
      csrf: /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '',
    };
  }
}

const BAD_SETTINGS: Array<[string, Record<string, string>]> = [
  ['PORT', { PORT: 'abc' }],
  ['PASSWORD_POLICY', { PASSWORD_POLICY: 'weak' }],
  ['CAPTCHA_TEST_ANSWER', { CAPTCHA_TEST_ANSWER: 'x', NODE_ENV: 'production' }],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
  // S8: the production start checks, and S4: "trust every proxy" in production.
  ['NODE_ENV', { NODE_ENV: 'prod' }],
  ['CAPTCHA_TEST_ANSWER', { CAPTCHA_TEST_ANSWER: 'x' }],
  [
    'SESSION_SECRET',
    { NODE_ENV: 'production', SMTP_URL: 'smtp://127.0.0.1:25', SESSION_SECRET: SESSION_SECRET_PLACEHOLDER },
  ],
  ['SMTP_URL', { NODE_ENV: 'production', SESSION_SECRET: 'a-real-secret-of-enough-length-0123456789' }],
  ['TRUST_PROXY', { NODE_ENV: 'production', SMTP_URL: 'smtp://127.0.0.1:25', TRUST_PROXY: 'true' }],
];

test('S4 S8 a bad or unsafe setting stops the server: non-zero exit, ONE line on stderr naming the setting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iryo-cfg-'));
  try {
    const runs = await Promise.all(
      BAD_SETTINGS.map(([, env]) => runToExit({ DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'p.db')}`, ...env })),
    );
    runs.forEach((r, i) => {
      const setting = BAD_SETTINGS[i]![0];
      assert.notEqual(r.code, 0, setting);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line for ${setting}: ${r.stderr}`);
      assert.match(lines[0]!, new RegExp(`^Configuration error: ${setting} `));
      assert.equal(r.stdout, '', `${setting}: nothing else printed`);
    });
    assert.equal(existsSync(join(dir, 'p.db')), false, 'no database was created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database that cannot be opened, or a port in use, stops the server with one clear line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iryo-cfg-'));
  const blocker: Server = createServer();
  try {
    writeFileSync(join(dir, 'a-file'), '');
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    const [sqliteBad, pgDown, busy] = await Promise.all([
      runToExit({ DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'a-file', 'p.db')}` }),
      runToExit({ DATA_DIR: dir, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/portal' }),
      runToExit({ DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'p.db')}`, PORT: String(port), HOST: '127.0.0.1' }),
    ]);
    for (const r of [sqliteBad, pgDown]) {
      assert.notEqual(r.code, 0);
      assert.match(r.stderr.trim(), /^Cannot start: [^\n]+$/);
    }
    assert.match(pgDown.stderr, /ECONNREFUSED/);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr.trim(), new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${port}: [^\\n]+$`));
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a real start: demo accounts printed, login and reset over HTTP, mail as .eml, no token in the logs (T5), SIGTERM stops it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iryo-srv-'));
  const port = await freePort();
  const server = startServer({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${join(dir, 'p.db')}`,
    NODE_ENV: 'test',
    CAPTCHA_TEST_ANSWER: CAPTCHA,
    TRUST_PROXY: 'true',
  });
  try {
    const password = await until(
      'the demo accounts',
      () => /ユーザー名\/ID: demo\s+パスワード: (\S+)/.exec(server.output())?.[1],
    );
    assert.match(server.output(), new RegExp(`http://localhost:${port}/csm`));
    assert.ok(server.output().includes(join(dir, 'outbox')), 'says where mails go');
    // S4: outside production TRUST_PROXY=true is accepted, with one warning line at start.
    assert.equal(
      server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('Warning: TRUST_PROXY=true ')).length,
      1,
    );

    // Log in as demo over real HTTP.
    const web = new Http(`http://127.0.0.1:${port}`);
    const login = await web.send('GET', '/login');
    assert.equal(login.status, 200);
    const posted = await web.send('POST', '/login', { username: 'demo', password, _csrf: login.csrf });
    assert.equal(posted.status, 303);
    assert.equal(posted.location, '/csm');
    const top = await web.send('GET', '/csm');
    assert.ok(top.body.includes('厚労 太郎 さん'), 'logged in as the demo user (its contact person)');

    // Request a reset for demo / demo@example.jp.
    const b = new Http(`http://127.0.0.1:${port}`);
    const start = await b.send('GET', '/password-reset');
    assert.equal(start.status, 303);
    const identify = await b.send('GET', start.location!);
    assert.ok(identify.body.includes(ja['reset.identify.heading']));
    assert.equal(
      (
        await b.send('POST', start.location!, {
          stage: 'identify',
          action: 'next',
          username: 'demo',
          captcha: CAPTCHA,
          _csrf: identify.csrf,
        })
      ).status,
      303,
    );
    const verify = await b.send('GET', start.location!);
    assert.ok(verify.body.includes(ja['reset.verify.heading']));
    assert.equal(
      (
        await b.send('POST', start.location!, {
          stage: 'verify',
          action: 'next',
          email: 'demo@example.jp',
          _csrf: verify.csrf,
        })
      ).status,
      303,
    );
    assert.ok((await b.send('GET', start.location!)).body.includes(ja['reset.sent.heading']));

    // The mail is an .eml file under DATA_DIR/outbox/ with the link.
    const outbox = join(dir, 'outbox');
    const mailFiles = () => (existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith('.eml')) : []);
    const file = await until('the .eml file', () => mailFiles()[0]);
    const mail = await simpleParser(readFileSync(join(outbox, file)));
    assert.equal(mail.subject, '【医療機関等向け総合ポータルサイト】パスワード変更用URL');
    const link = /http:\/\/localhost:\d+\/passwordreset\.do\?sysparm_tiny=([A-Za-z0-9]{32})/.exec(mail.text ?? '');
    assert.ok(link, 'the mail holds the passwordreset.do link');
    const token = link[1]!;

    // D2: /dev/mail is a development page; this start is NODE_ENV=test (its CAPTCHA answer needs it), so the banner
    // does not offer it and the page is absent (test/e2e/dev-mail-journey.test.ts reads it over loopback in development).
    assert.ok(!server.output().includes('/dev/mail'), 'no /dev/mail outside development');
    assert.equal((await web.send('GET', '/dev/mail')).status, 404);

    // Open the link, set a new password, log in with it.
    const opened = await b.send('GET', `/passwordreset.do?sysparm_tiny=${token}`);
    assert.equal(opened.status, 303);
    assert.match(opened.location!, /^\/passwordreset\.do\?flow=[A-Za-z0-9]{32}$/);
    const form = await b.send('GET', opened.location!);
    assert.ok(form.body.includes(ja['reset.reset.heading']));
    const newPassword = 'Server2026Reset';
    assert.equal(
      (await b.send('POST', opened.location!, { password: newPassword, confirm: newPassword, _csrf: form.csrf }))
        .status,
      303,
    );
    assert.ok((await b.send('GET', opened.location!)).body.includes('Password Resetに成功'));
    const again = new Http(`http://127.0.0.1:${port}`);
    const loginAgain = await again.send('GET', '/login');
    assert.equal(
      (await again.send('POST', '/login', { username: 'demo', password: newPassword, _csrf: loginAgain.csrf })).status,
      303,
    );
    await until('the password-changed notice', () => (mailFiles().length >= 2 ? true : undefined));

    // T5: requests were logged, with the token redacted; no secret typed into a form is in the logs.
    await until('the link request in the log', () =>
      server.output().includes('sysparm_tiny=[REDACTED]') ? true : undefined,
    );
    const log = server.output();
    assert.ok(!log.includes(token), 'the token never reaches stdout/stderr');
    assert.ok(!log.includes(newPassword), 'the new password never reaches the logs');
    assert.ok(
      !log.includes(CAPTCHA + '&') && !log.includes(`"captcha":"${CAPTCHA}"`),
      'the CAPTCHA answer is not logged',
    );

    // SIGTERM: the server stops cleanly.
    server.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      server.exited,
      new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 30_000))),
    ]);
    clearTimeout(timer);
    assert.equal(code, 0, 'exits with 0 after SIGTERM');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/csm`), 'nothing listens any more');
  } finally {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
