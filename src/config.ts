/**
 * Every setting of the portal, typed, read once from the environment with its default.
 * A bad value stops the start with one line that names the setting (see {@link ConfigError}).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PolicyName } from './accounts/password-policy.ts';
import { parseAddressList, type AddressList } from './security/address-list.ts';

export interface Config {
  nodeEnv: string;
  production: boolean;
  port: number;
  host: string;
  baseUrl: string;
  dataDir: string;
  databaseUrl: string;
  redisUrl: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Phone number of the call center, shown on pages and in every mail's contact block. */
  callCenterPhone: string;
  /** The contact block of every mail, one line per entry; `{phone}` is replaced by callCenterPhone. */
  mailContactLines: string[] | undefined;
  sessionSecret: string;
  /** The audit chain's HMAC key (H10): AUDIT_KEY, or DATA_DIR/audit-key made at first start; never in the database. */
  auditKey: string;
  passwordPolicy: PolicyName;
  /** SQLite only: NORMAL (default) or FULL, whether each commit waits for the disk (database.ts). */
  sqliteSynchronous: 'normal' | 'full';
  trustProxy: boolean | string;
  captchaTestAnswer: string | undefined;
  resetTokenTtlMinutes: number;
  flowTtlMinutes: number;
  lockoutThreshold: number;
  lockoutMinutes: number;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  adminIdleMinutes: number;
  /** Reset mails per account and hour from all addresses together: the ceiling (R3). */
  resetMailsPerAccountPerHour: number;
  /** Reset mails per account and hour asked from one address: a stranger cannot use up the owner's mails (R3). */
  resetMailsPerAccountPerIpPerHour: number;
  /** Every failed login answers no sooner than this after it began (a wrong bcrypt password costs more: L1). */
  loginFailureFloorMs: number;
  resetRequestsPerIpPerHour: number;
  loginFailuresPerIpPer15Min: number;
  /** Passes of the CAPTCHA's proof-of-work alternative per address per hour (K3); one per flow in any case. */
  powPassesPerIpPerHour: number;
  mailRetryBaseMs: number;
  mailMaxAttempts: number;
  /** How long a worker owns a claimed mail; after that (its instance died) another worker takes it over. */
  mailClaimMs: number;
  /** Requests per minute per address on each form and link route (a flood guard; the finer limits are separate). */
  floodLimitPerMinute: number;
  /** How long the anonymous top page may be served from memory (an edit through another instance shows within it). */
  pageCacheSeconds: number;
  metricsToken: string | undefined;
  logLevel: string;
  /** ADMIN_ALLOW_CIDRS: when set, /admin answers only these client addresses (as Fastify sees them under TRUST_PROXY). */
  adminAllowCidrs: AddressList | undefined;
  /** MAIL_FILE_OUTBOX=allow: production without SMTP_URL writes mails as .eml files on purpose (S8). */
  mailFileOutbox: boolean;
  /** Settings that are allowed but unsafe outside tests; server.ts prints each at start. */
  warnings: string[];
  /** The whole shutdown (requests in progress, mail worker, database) must end within this; below systemd's 30 s. */
  shutdownTimeoutSeconds: number;
}

export class ConfigError extends Error {}

const POLICIES = ['portal', 'mhlw', 'nist'] as const;
const NODE_ENVS = ['development', 'test', 'production'] as const;

/**
 * The SESSION_SECRET of deploy/systemd/iryo-portal.env.example (a test keeps the two in step): a production start
 * with it is refused, as is any value that still starts with CHANGE-ME (S8).
 */
export const SESSION_SECRET_PLACEHOLDER = 'CHANGE-ME-to-48-random-characters-from-openssl-rand';

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

function readOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

/** The audit key file, made like session-secret; its own secret, so that rotating SESSION_SECRET keeps the trail verifiable. */
function readOrCreateAuditKey(dataDir: string): string {
  const file = join(dataDir, 'audit-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  try {
    // Exclusive: two instances started at once on one host must not each make (and chain with) a key of their own.
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8').trim();
}

/** Reads the configuration; throws ConfigError naming the first bad setting. */
export function loadConfig(env: Env = process.env, options: { persistSecret?: boolean } = {}): Config {
  const nodeEnv = env.NODE_ENV || 'development';
  // A typo such as "prod" would silently run without the production checks and HSTS (S8).
  if (!(NODE_ENVS as readonly string[]).includes(nodeEnv)) {
    throw new ConfigError(`NODE_ENV must be one of ${NODE_ENVS.join(', ')} (got "${nodeEnv}")`);
  }
  const production = nodeEnv === 'production';
  const warnings: string[] = [];
  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const dataDir = resolve(env.DATA_DIR || 'data');

  const baseUrlRaw = env.BASE_URL || `http://localhost:${port}`;
  let baseUrl: string;
  try {
    const u = new URL(baseUrlRaw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    if (u.search || u.hash) throw new Error();
    baseUrl = u.toString().replace(/\/$/, '');
  } catch {
    throw new ConfigError(`BASE_URL must be an http:// or https:// address without query (got "${baseUrlRaw}")`);
  }

  // The default database lives in DATA_DIR like everything else the portal writes (README's settings table).
  const databaseUrl = env.DATABASE_URL || `sqlite:${join(dataDir, 'portal.db')}`;
  if (!/^sqlite:.+/.test(databaseUrl) && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be sqlite:PATH or postgres://… (got an unsupported value)');
  }
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\/.+/.test(redisUrl)) {
    throw new ConfigError('REDIS_URL must start with redis:// or rediss://');
  }
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl && !/^smtps?:\/\/.+/.test(smtpUrl)) {
    throw new ConfigError('SMTP_URL must start with smtp:// or smtps://');
  }
  const mailFrom = env.MAIL_FROM || 'from@mail.iryohokenjyohoportalsite.jp';
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(mailFrom)) throw new ConfigError('MAIL_FROM must be an e-mail address');

  const sqliteSynchronous = (env.SQLITE_SYNCHRONOUS || 'normal').toLowerCase();
  if (sqliteSynchronous !== 'normal' && sqliteSynchronous !== 'full') {
    throw new ConfigError(`SQLITE_SYNCHRONOUS must be normal or full (got "${env.SQLITE_SYNCHRONOUS}")`);
  }
  const passwordPolicy = (env.PASSWORD_POLICY || 'portal') as PolicyName;
  if (!POLICIES.includes(passwordPolicy)) {
    throw new ConfigError(`PASSWORD_POLICY must be one of ${POLICIES.join(', ')} (got "${env.PASSWORD_POLICY}")`);
  }

  const captchaTestAnswer = env.CAPTCHA_TEST_ANSWER || undefined;
  // A fixed answer switches the CAPTCHA off: only an automated test may ask for it (S8).
  if (captchaTestAnswer && nodeEnv !== 'test') {
    throw new ConfigError(`CAPTCHA_TEST_ANSWER may only be set when NODE_ENV=test (NODE_ENV is ${nodeEnv})`);
  }
  if (captchaTestAnswer && !/^[A-Za-z0-9]{1,10}$/.test(captchaTestAnswer)) {
    throw new ConfigError('CAPTCHA_TEST_ANSWER must be 1 to 10 letters or digits');
  }

  let sessionSecret = env.SESSION_SECRET;
  if (sessionSecret !== undefined && sessionSecret.length < 32) {
    throw new ConfigError('SESSION_SECRET must be at least 32 characters');
  }
  if (
    production &&
    sessionSecret &&
    (sessionSecret.trim() === SESSION_SECRET_PLACEHOLDER || /^\s*CHANGE-ME/i.test(sessionSecret))
  ) {
    throw new ConfigError(
      'SESSION_SECRET is still the placeholder of iryo-portal.env.example: set a random value (openssl rand -base64 48)',
    );
  }
  // A long but trivial value (all one letter, a repeated word) signs cookies an attacker could guess (S8).
  if (production && sessionSecret && new Set(sessionSecret).size < 8) {
    throw new ConfigError(
      'SESSION_SECRET must be random: it has fewer than 8 different characters (openssl rand -base64 48)',
    );
  }
  const mailFileOutboxRaw = env.MAIL_FILE_OUTBOX || undefined;
  if (mailFileOutboxRaw !== undefined && mailFileOutboxRaw !== 'allow') {
    throw new ConfigError(`MAIL_FILE_OUTBOX must be "allow" or unset (got "${mailFileOutboxRaw}")`);
  }
  const mailFileOutbox = mailFileOutboxRaw === 'allow';
  // The file outbox keeps working reset links in clear on the disk: a production start needs SMTP, or says so (S8).
  if (production && !smtpUrl && !mailFileOutbox) {
    throw new ConfigError(
      'SMTP_URL must be set when NODE_ENV=production (or set MAIL_FILE_OUTBOX=allow to write mails as .eml files on purpose)',
    );
  }
  if (!sessionSecret) {
    sessionSecret =
      options.persistSecret === false ? randomBytes(32).toString('base64url') : readOrCreateSecret(dataDir);
  }

  let auditKey = env.AUDIT_KEY;
  if (auditKey !== undefined && auditKey !== '' && auditKey.length < 32) {
    throw new ConfigError('AUDIT_KEY must be at least 32 characters');
  }
  if (!auditKey) {
    auditKey = options.persistSecret === false ? randomBytes(32).toString('base64url') : readOrCreateAuditKey(dataDir);
  }

  const tp = env.TRUST_PROXY?.trim();
  let trustProxy: boolean | string = false;
  if (tp === 'true' || tp === '1') {
    // "Trust every hop" lets any client write its own address in X-Forwarded-For (S4).
    if (production)
      throw new ConfigError(
        "TRUST_PROXY must list the proxy's addresses or CIDR ranges when NODE_ENV=production (true trusts every client; e.g. 127.0.0.1)",
      );
    warnings.push(
      "TRUST_PROXY=true trusts X-Forwarded-For from any client: list the proxy's addresses instead (refused in production)",
    );
    trustProxy = true;
  } else if (tp && tp !== 'false' && tp !== '0') {
    const parsed = parseAddressList(tp);
    if (!parsed.ok)
      throw new ConfigError(
        `TRUST_PROXY must be a comma-separated list of IP addresses or CIDR ranges, or loopback (bad entry "${parsed.bad}")`,
      );
    trustProxy = parsed.list.entries.join(',');
  }
  let adminAllowCidrs: AddressList | undefined;
  if (env.ADMIN_ALLOW_CIDRS?.trim()) {
    const parsed = parseAddressList(env.ADMIN_ALLOW_CIDRS);
    if (!parsed.ok)
      throw new ConfigError(
        `ADMIN_ALLOW_CIDRS must be a comma-separated list of IP addresses or CIDR ranges, or loopback (bad entry "${parsed.bad}")`,
      );
    adminAllowCidrs = parsed.list;
  }

  const contact = env.MAIL_CONTACT;
  return {
    nodeEnv,
    production,
    port,
    host,
    baseUrl,
    dataDir,
    databaseUrl,
    redisUrl,
    smtpUrl,
    mailFrom,
    callCenterPhone: env.CALL_CENTER_PHONE || '0800-080-4583',
    mailContactLines: contact ? contact.split('\\n') : undefined,
    sessionSecret,
    auditKey,
    passwordPolicy,
    sqliteSynchronous,
    trustProxy,
    captchaTestAnswer,
    resetTokenTtlMinutes: int(env, 'RESET_TOKEN_TTL_MINUTES', 60, 5, 24 * 60),
    flowTtlMinutes: int(env, 'FLOW_TTL_MINUTES', 30, 5, 24 * 60),
    lockoutThreshold: int(env, 'LOCKOUT_THRESHOLD', 5, 1, 100),
    lockoutMinutes: int(env, 'LOCKOUT_MINUTES', 15, 1, 24 * 60),
    sessionIdleMinutes: int(env, 'SESSION_IDLE_MINUTES', 30, 1, 24 * 60),
    sessionAbsoluteHours: int(env, 'SESSION_ABSOLUTE_HOURS', 8, 1, 24 * 7),
    adminIdleMinutes: int(env, 'ADMIN_IDLE_MINUTES', 15, 1, 24 * 60),
    resetMailsPerAccountPerHour: int(env, 'RESET_MAILS_PER_ACCOUNT_PER_HOUR', 10, 1, 1000),
    resetMailsPerAccountPerIpPerHour: int(env, 'RESET_MAILS_PER_ACCOUNT_PER_IP_PER_HOUR', 3, 1, 1000),
    loginFailureFloorMs: int(env, 'LOGIN_FAILURE_FLOOR_MS', 300, 0, 10_000),
    resetRequestsPerIpPerHour: int(env, 'RESET_REQUESTS_PER_IP_PER_HOUR', 20, 1, 100000),
    loginFailuresPerIpPer15Min: int(env, 'LOGIN_FAILURES_PER_IP_PER_15MIN', 50, 1, 100000),
    powPassesPerIpPerHour: int(env, 'POW_PASSES_PER_IP_PER_HOUR', 3, 1, 1000),
    mailRetryBaseMs: int(env, 'MAIL_RETRY_BASE_MS', 5000, 10, 3600000),
    mailMaxAttempts: int(env, 'MAIL_MAX_ATTEMPTS', 10, 1, 100),
    mailClaimMs: int(env, 'MAIL_CLAIM_MS', 60_000, 500, 3600_000),
    floodLimitPerMinute: int(env, 'FLOOD_LIMIT_PER_MINUTE', 60, 1, 10_000_000),
    pageCacheSeconds: int(env, 'PAGE_CACHE_SECONDS', 5, 0, 3600),
    metricsToken: env.METRICS_TOKEN || undefined,
    logLevel: env.LOG_LEVEL || 'info',
    adminAllowCidrs,
    mailFileOutbox,
    warnings,
    shutdownTimeoutSeconds: int(env, 'SHUTDOWN_TIMEOUT_SECONDS', 10, 1, 600),
  };
}
