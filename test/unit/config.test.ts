/** loadConfig: documented defaults, and one ConfigError naming the setting for every bad value. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, SESSION_SECRET_PLACEHOLDER } from '../../src/config.ts';

const SECRET = 'unit-test-secret-0123456789-abcdefghij';
const load = (env: Record<string, string>) => loadConfig({ SESSION_SECRET: SECRET, ...env }, { persistSecret: false });

test('config: defaults when nothing is set', () => {
  const c = loadConfig({}, { persistSecret: false });
  assert.equal(c.port, 3000);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.baseUrl, 'http://localhost:3000');
  assert.equal(c.databaseUrl, `sqlite:${join(resolve('data'), 'portal.db')}`);
  assert.equal(c.mailFrom, 'from@mail.iryohokenjyohoportalsite.jp');
  assert.equal(c.passwordPolicy, 'portal');
  assert.equal(c.dataDir, resolve('data'));
  assert.equal(c.production, false);
  assert.equal(c.smtpUrl, undefined);
  assert.equal(c.redisUrl, undefined);
  assert.equal(c.captchaTestAnswer, undefined);
  assert.equal(c.callCenterPhone, '0800-080-4583');
  // L2/L4/T2 defaults (ServiceNow-like lockout, MHLW session timeouts, 1-hour link).
  assert.equal(c.lockoutThreshold, 5);
  assert.equal(c.lockoutMinutes, 15);
  assert.equal(c.sessionIdleMinutes, 30);
  assert.equal(c.sessionAbsoluteHours, 8);
  assert.equal(c.resetTokenTtlMinutes, 60);
  // G4/G5: reset mails per account from one address under a per-account ceiling; the failed-login answer floor.
  assert.equal(c.resetMailsPerAccountPerIpPerHour, 3);
  assert.equal(c.resetMailsPerAccountPerHour, 10);
  assert.equal(c.loginFailureFloorMs, 300);
  assert.ok(c.sessionSecret.length >= 32, 'a random session secret is drawn');
});

test('config: without DATABASE_URL the SQLite database is portal.db in DATA_DIR, as the settings table says', () => {
  assert.equal(load({ DATA_DIR: '/srv/iryo' }).databaseUrl, 'sqlite:/srv/iryo/portal.db');
  assert.equal(load({ DATA_DIR: 'var/portal' }).databaseUrl, `sqlite:${resolve('var/portal', 'portal.db')}`);
  assert.equal(
    load({ DATA_DIR: '/srv/iryo', DATABASE_URL: 'sqlite:/elsewhere/p.db' }).databaseUrl,
    'sqlite:/elsewhere/p.db',
    'DATABASE_URL wins',
  );
});

test('config: BASE_URL follows PORT when not set, and loses its trailing slash', () => {
  assert.equal(load({ PORT: '8080' }).baseUrl, 'http://localhost:8080');
  assert.equal(load({ BASE_URL: 'https://portal.example.jp/' }).baseUrl, 'https://portal.example.jp');
});

test('config: good values are taken', () => {
  const c = load({
    PORT: '0',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://u@db/portal',
    REDIS_URL: 'redis://r:6379',
    SMTP_URL: 'smtps://mail:465',
    MAIL_FROM: 'noreply@example.jp',
    PASSWORD_POLICY: 'nist',
    LOCKOUT_THRESHOLD: '10',
    TRUST_PROXY: '10.0.0.0/8',
    NODE_ENV: 'production',
  });
  assert.equal(c.port, 0);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.databaseUrl, 'postgres://u@db/portal');
  assert.equal(c.redisUrl, 'redis://r:6379');
  assert.equal(c.smtpUrl, 'smtps://mail:465');
  assert.equal(c.mailFrom, 'noreply@example.jp');
  assert.equal(c.passwordPolicy, 'nist');
  assert.equal(c.lockoutThreshold, 10);
  assert.equal(c.trustProxy, '10.0.0.0/8');
  assert.equal(c.production, true);
});

const BAD: Array<[string, Record<string, string>]> = [
  ['PORT', { PORT: 'abc' }],
  ['PORT', { PORT: '70000' }],
  ['PORT', { PORT: '-1' }],
  ['BASE_URL', { BASE_URL: 'ftp://portal.example.jp' }],
  ['BASE_URL', { BASE_URL: 'not a url' }],
  ['BASE_URL', { BASE_URL: 'https://portal.example.jp/?x=1' }],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
  ['REDIS_URL', { REDIS_URL: 'http://redis' }],
  ['SMTP_URL', { SMTP_URL: 'http://mail' }],
  ['MAIL_FROM', { MAIL_FROM: 'not an address' }],
  ['PASSWORD_POLICY', { PASSWORD_POLICY: 'weak' }],
  ['CAPTCHA_TEST_ANSWER', { CAPTCHA_TEST_ANSWER: 'x', NODE_ENV: 'production' }],
  ['CAPTCHA_TEST_ANSWER', { CAPTCHA_TEST_ANSWER: 'has space' }],
  ['SESSION_SECRET', { SESSION_SECRET: 'short' }],
  ['TRUST_PROXY', { TRUST_PROXY: 'everyone' }],
  ['RESET_TOKEN_TTL_MINUTES', { RESET_TOKEN_TTL_MINUTES: '0' }],
  ['FLOW_TTL_MINUTES', { FLOW_TTL_MINUTES: '1.5' }],
  ['LOCKOUT_THRESHOLD', { LOCKOUT_THRESHOLD: '0' }],
  ['LOCKOUT_MINUTES', { LOCKOUT_MINUTES: 'ten' }],
  ['SESSION_IDLE_MINUTES', { SESSION_IDLE_MINUTES: '0' }],
  ['SESSION_ABSOLUTE_HOURS', { SESSION_ABSOLUTE_HOURS: '1000' }],
  ['RESET_MAILS_PER_ACCOUNT_PER_HOUR', { RESET_MAILS_PER_ACCOUNT_PER_HOUR: '0' }],
  ['RESET_MAILS_PER_ACCOUNT_PER_IP_PER_HOUR', { RESET_MAILS_PER_ACCOUNT_PER_IP_PER_HOUR: '0' }],
  ['LOGIN_FAILURE_FLOOR_MS', { LOGIN_FAILURE_FLOOR_MS: '-5' }],
  ['RESET_REQUESTS_PER_IP_PER_HOUR', { RESET_REQUESTS_PER_IP_PER_HOUR: 'x' }],
  ['LOGIN_FAILURES_PER_IP_PER_15MIN', { LOGIN_FAILURES_PER_IP_PER_15MIN: '0' }],
  ['MAIL_RETRY_BASE_MS', { MAIL_RETRY_BASE_MS: '1' }],
  ['MAIL_MAX_ATTEMPTS', { MAIL_MAX_ATTEMPTS: '101' }],
  // S4: TRUST_PROXY takes addresses and CIDR ranges only; "trust everyone" is refused in production.
  ['TRUST_PROXY', { TRUST_PROXY: 'true', NODE_ENV: 'production', SMTP_URL: 'smtp://mail' }],
  ['TRUST_PROXY', { TRUST_PROXY: '1', NODE_ENV: 'production', SMTP_URL: 'smtp://mail' }],
  ['TRUST_PROXY', { TRUST_PROXY: '10.0.0.0/33' }],
  ['TRUST_PROXY', { TRUST_PROXY: '127.0.0.1, 1.2.3.4.5' }],
  ['TRUST_PROXY', { TRUST_PROXY: 'fd00::/129' }],
  // Trust-all in pieces, and /0, are refused with one line, not a stack trace (S4).
  [
    'TRUST_PROXY',
    { TRUST_PROXY: '0.0.0.0/1,128.0.0.0/1,::/1,8000::/1', NODE_ENV: 'production', SMTP_URL: 'smtp://mail' },
  ],
  ['TRUST_PROXY', { TRUST_PROXY: '0.0.0.0/0' }],
  ['TRUST_PROXY', { TRUST_PROXY: '::/0' }],
  ['TRUST_PROXY', { TRUST_PROXY: '::ffff:0:0/96' }],
  ['ADMIN_ALLOW_CIDRS', { ADMIN_ALLOW_CIDRS: '0.0.0.0/0' }],
  ['ADMIN_ALLOW_CIDRS', { ADMIN_ALLOW_CIDRS: 'intranet' }],
  ['ADMIN_ALLOW_CIDRS', { ADMIN_ALLOW_CIDRS: '192.168.0.0/24/1' }],
  // S8: unknown NODE_ENV; CAPTCHA_TEST_ANSWER only under test; production needs a real secret and SMTP (or says so).
  ['NODE_ENV', { NODE_ENV: 'prod' }],
  ['NODE_ENV', { NODE_ENV: 'Production' }],
  ['CAPTCHA_TEST_ANSWER', { CAPTCHA_TEST_ANSWER: 'w7rbh' }],
  ['CAPTCHA_TEST_ANSWER', { CAPTCHA_TEST_ANSWER: 'w7rbh', NODE_ENV: 'development' }],
  ['SESSION_SECRET', { SESSION_SECRET: SESSION_SECRET_PLACEHOLDER, NODE_ENV: 'production', SMTP_URL: 'smtp://mail' }],
  [
    'SESSION_SECRET',
    {
      SESSION_SECRET: 'CHANGE-ME-and-some-more-characters-to-be-long',
      NODE_ENV: 'production',
      SMTP_URL: 'smtp://mail',
    },
  ],
  // The red team's variants: the placeholder behind a space, and a long secret of one letter (S8).
  [
    'SESSION_SECRET',
    { SESSION_SECRET: ` ${SESSION_SECRET_PLACEHOLDER}`, NODE_ENV: 'production', SMTP_URL: 'smtp://mail' },
  ],
  ['SESSION_SECRET', { SESSION_SECRET: 'a'.repeat(48), NODE_ENV: 'production', SMTP_URL: 'smtp://mail' }],
  ['SMTP_URL', { NODE_ENV: 'production' }],
  ['MAIL_FILE_OUTBOX', { MAIL_FILE_OUTBOX: 'yes' }],
];

for (const [setting, env] of BAD) {
  test(`config: ${setting}=${Object.values(env)[0]} throws a ConfigError naming ${setting}`, () => {
    assert.throws(
      () => load(env),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
        assert.ok(err.message.startsWith(setting), `the message names ${setting}: ${err.message}`);
        assert.doesNotMatch(err.message, /\n/, 'one line');
        return true;
      },
    );
  });
}

test('config: the DATABASE_URL error does not echo the value (it may hold a password)', () => {
  assert.throws(
    () => load({ DATABASE_URL: 'mysql://admin:hunter2@db/x' }),
    (err: Error) => !err.message.includes('hunter2'),
  );
});

test('S8 config: the SESSION_SECRET placeholder refused in production is the one of deploy/systemd/iryo-portal.env.example', () => {
  const example = readFileSync(new URL('../../deploy/systemd/iryo-portal.env.example', import.meta.url), 'utf8');
  const line = /^SESSION_SECRET=(.*)$/m.exec(example);
  assert.ok(line, 'the example file sets SESSION_SECRET');
  assert.equal(line[1], SESSION_SECRET_PLACEHOLDER);
  // Outside production the placeholder is only a (long enough) secret: a first try with the example file works.
  assert.equal(load({ SESSION_SECRET: SESSION_SECRET_PLACEHOLDER }).sessionSecret, SESSION_SECRET_PLACEHOLDER);
});

test('S8 config: production starts without SMTP_URL only with MAIL_FILE_OUTBOX=allow; CAPTCHA_TEST_ANSWER under NODE_ENV=test', () => {
  const c = load({ NODE_ENV: 'production', MAIL_FILE_OUTBOX: 'allow' });
  assert.equal(c.production, true);
  assert.equal(c.smtpUrl, undefined);
  assert.equal(c.mailFileOutbox, true);
  assert.equal(load({ NODE_ENV: 'test', CAPTCHA_TEST_ANSWER: 'w7rbh' }).captchaTestAnswer, 'w7rbh');
  assert.equal(load({ NODE_ENV: '' }).nodeEnv, 'development', 'an empty NODE_ENV is the default');
});

test('S4 config: TRUST_PROXY lists (loopback expanded), true only outside production and with a warning; ADMIN_ALLOW_CIDRS', () => {
  assert.equal(load({ TRUST_PROXY: ' 127.0.0.1 , 10.0.0.0/8,fd00::/8' }).trustProxy, '127.0.0.1,10.0.0.0/8,fd00::/8');
  assert.equal(load({ TRUST_PROXY: 'loopback' }).trustProxy, '127.0.0.0/8,::1/128');
  assert.equal(load({ TRUST_PROXY: 'false' }).trustProxy, false);
  assert.deepEqual(load({}).warnings, []);
  const dev = load({ TRUST_PROXY: 'true' });
  assert.equal(dev.trustProxy, true);
  assert.equal(dev.warnings.length, 1);
  assert.match(dev.warnings[0]!, /^TRUST_PROXY=true /);
  assert.equal(load({}).adminAllowCidrs, undefined);
  const allow = load({ ADMIN_ALLOW_CIDRS: '192.0.2.0/24, 2001:db8::1' }).adminAllowCidrs!;
  assert.ok(allow.contains('192.0.2.77'));
  assert.ok(allow.contains('::ffff:192.0.2.77'), 'IPv4-mapped IPv6 counts as the IPv4 address');
  assert.ok(allow.contains('2001:db8::1'));
  assert.ok(!allow.contains('198.51.100.1'));
  assert.ok(!allow.contains('2001:db8::2'));
  assert.ok(!allow.contains('not-an-ip'));
});
