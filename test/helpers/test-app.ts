/**
 * A portal for integration tests: a fresh migrated database (SQLite or PostgreSQL), a real SMTP sink,
 * a controllable clock, and an HTTP client with a cookie jar that talks to app.inject().
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp, loggerOptions } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createSmtpTransport } from '../../src/mail/transports.ts';
import { POLICIES } from '../../src/accounts/password-policy.ts';
import { createUser, type NewUserInput } from '../../src/accounts/create-user.ts';
import type { User } from '../../src/db/schema.ts';
import { freshDatabase, REDIS_URL, type TargetName, type TestDatabase } from './db-targets.ts';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from './smtp-sink.ts';

export const BASE_URL = 'https://portal.example.jp';
export const CAPTCHA = 'w7rbh';
export const GOOD_PASSWORD = 'Kanri2026Pass';

export interface Clock {
  now(): number;
  advance(ms: number): void;
}

export interface TestPortal {
  target: TargetName;
  app: FastifyInstance;
  database: TestDatabase;
  sink: SmtpSink;
  clock: Clock;
  config: Config;
  redis: Redis | undefined;
  /** The key prefix in Redis: another app built with it (and the same database) shares the limits. */
  redisPrefix: string;
  client(): Client;
  createUser(input: Partial<NewUserInput> & { username: string }): Promise<User>;
  /** Audit rows, oldest first. */
  audit(event?: string): Promise<
    Array<{
      event: string;
      outcome: string;
      user_id: string | null;
      identifier: string | null;
      ip: string | null;
      user_agent: string | null;
      detail: string | null;
    }>
  >;
  close(): Promise<void>;
}

export interface PortalOptions {
  env?: Record<string, string>;
  /** Use Date.now instead of the controllable clock (mail retries in real time). */
  realClock?: boolean;
  redis?: boolean;
  /** Where the app's logs go (level info, the app's own redaction); without it the app logs nothing. */
  logStream?: { write(line: string): void };
}

export async function startTestPortal(target: TargetName, options: PortalOptions = {}): Promise<TestPortal> {
  const database = await freshDatabase(target);
  const sink = await startSmtpSink();
  let offset = 0;
  const clock: Clock = options.realClock
    ? {
        now: () => Date.now(),
        advance: () => {
          throw new Error('real clock');
        },
      }
    : {
        now: () => Date.now() + offset,
        advance: (ms) => {
          offset += ms;
        },
      };
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      BASE_URL,
      SMTP_URL: sink.url,
      CAPTCHA_TEST_ANSWER: CAPTCHA,
      SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
      MAIL_RETRY_BASE_MS: '100',
      ...options.env,
    },
    { persistSecret: false },
  );
  let redis: Redis | undefined;
  if (options.redis) {
    redis = new Redis(REDIS_URL);
  }
  const redisPrefix = `iryo-test:${database.schema ?? Math.random().toString(36).slice(2)}:${Date.now()}:`;
  // Closed in close(): a pooled SMTP connection left open would hold the sink's shutdown for its idle timeout.
  const transport = createSmtpTransport(sink.url);
  const app = await buildApp({
    config,
    db: database.db,
    dialect: database.dialect,
    transport,
    redis,
    now: clock.now,
    mailPollMs: 50,
    ...(options.logStream ? { logger: { ...(loggerOptions('info') as object), stream: options.logStream } } : {}),
    redisPrefix,
  });
  await app.ready();
  const portal: TestPortal = {
    target,
    app,
    database,
    sink,
    clock,
    config,
    redis,
    redisPrefix,
    client: () => new Client(app),
    async createUser(input) {
      const r = await createUser(database.db, POLICIES[config.passwordPolicy], clock.now(), {
        email: `${input.username}@example.jp`,
        password: GOOD_PASSWORD,
        ...input,
      });
      if (!r.ok) throw new Error(`createUser failed: ${JSON.stringify(r)}`);
      return r.user;
    },
    async audit(event) {
      await resetRequestsDecided(database.db);
      let q = database.db
        .selectFrom('audit_log')
        .select(['event', 'outcome', 'user_id', 'identifier', 'ip', 'user_agent', 'detail'])
        .orderBy('seq');
      if (event) q = q.where('event', '=', event);
      return q.execute();
    },
    async close() {
      await app.close();
      transport.close();
      await sink.stop();
      if (redis) await redis.quit();
      await database.drop();
    },
  };
  return portal;
}

/**
 * Waits until the worker has decided every stage-② reset request (it does so a moment after the answer, in the
 * transaction that writes the outcome to the audit trail: a request row leaves the table when that commits).
 */
export async function resetRequestsDecided(db: TestDatabase['db'], ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await db
      .selectFrom('reset_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(r.n) === 0) return;
    if (Date.now() > until) throw new Error(`${r.n} reset request(s) still undecided after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface Page {
  status: number;
  headers: LightMyRequestResponse['headers'];
  body: string;
  /** The body's bytes (a picture). */
  raw: Buffer;
  location: string | undefined;
  /** The visible text, tags removed and entities decoded (roughly what a person reads). */
  text: string;
}

function toText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

/** A browser-like client: keeps cookies, finds the CSRF token of the last page. */
export class Client {
  cookies = new Map<string, string>();
  last: Page | undefined;
  ip = '203.0.113.10';
  userAgent = 'TestBrowser/1.0';

  constructor(readonly app: FastifyInstance) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: LightMyRequestResponse): Page {
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const page: Page = {
      status: res.statusCode,
      headers: res.headers,
      body: res.body,
      raw: res.rawPayload,
      location: res.headers.location as string | undefined,
      text: toText(res.body),
    };
    if (String(res.headers['content-type'] ?? '').startsWith('text/html')) this.last = page;
    return page;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Page> {
    const res = await this.app.inject({
      method: 'GET',
      url,
      remoteAddress: this.ip,
      headers: { cookie: this.cookieHeader(), 'user-agent': this.userAgent, ...headers },
    });
    return this.keep(res);
  }

  /** GET, following redirects (up to 5). */
  async open(url: string): Promise<Page> {
    let page = await this.get(url);
    for (let i = 0; i < 5 && page.status >= 300 && page.status < 400 && page.location; i++)
      page = await this.get(page.location);
    return page;
  }

  csrf(): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(this.last?.body ?? '');
    if (!m) throw new Error('no CSRF token on the last page');
    return m[1]!;
  }

  /** The action of the first form on the last page that posts (not the logout form). */
  formAction(): string {
    const forms = [...(this.last?.body ?? '').matchAll(/<form method="post" action="([^"]+)"/g)].map((m) =>
      m[1]!.replace(/&amp;/g, '&'),
    );
    const f = forms.find((a) => a !== '/logout');
    if (!f) throw new Error('no form on the last page');
    return f;
  }

  async post(
    url: string,
    fields: Record<string, string>,
    options: { csrf?: boolean; headers?: Record<string, string>; payload?: string | Buffer } = {},
  ): Promise<Page> {
    const form = new URLSearchParams(fields);
    if (options.csrf !== false && !('_csrf' in fields)) form.set('_csrf', this.csrf());
    const res = await this.app.inject({
      method: 'POST',
      url,
      remoteAddress: this.ip,
      headers: {
        cookie: this.cookieHeader(),
        'user-agent': this.userAgent,
        'content-type': 'application/x-www-form-urlencoded',
        ...options.headers,
      },
      payload: options.payload ?? form.toString(),
    });
    return this.keep(res);
  }

  /** Submits the page's form, then follows the redirect (PRG) if there is one. */
  async submit(fields: Record<string, string>): Promise<Page> {
    const page = await this.post(this.formAction(), fields);
    if (page.status === 303 && page.location) return this.open(page.location);
    return page;
  }
}

/** Walks ① and ② of the reset: returns the page shown after ②. */
export async function requestReset(client: Client, username: string, email: string, captcha = CAPTCHA): Promise<Page> {
  await client.open('/password-reset');
  const afterIdentify = await client.submit({ stage: 'identify', action: 'next', username, captcha });
  if (afterIdentify.status !== 200) return afterIdentify;
  const sent = await client.submit({ stage: 'verify', action: 'next', email });
  // The worker decides the request a moment later; what follows in a test (the console, the audit) expects it.
  await resetRequestsDecided(client.app.services.db);
  return sent;
}

/** The reset link of a mail: {BASE_URL}/passwordreset.do?sysparm_tiny=… */
export function linkOf(mail: ReceivedMail): string {
  const m = /https?:\/\/\S+\/passwordreset\.do\?sysparm_tiny=[A-Za-z0-9]{32}/.exec(mail.text);
  if (!m) throw new Error('no reset link in the mail');
  return m[0];
}

/** The path and query of a link of BASE_URL, for app.inject. */
export function pathOf(link: string): string {
  const u = new URL(link);
  return u.pathname + u.search;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
