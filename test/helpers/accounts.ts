/**
 * Helpers for the account tests (issue 3): walking 新規ユーザー登録, the mailed links of registration and of the
 * change of address, logging in, reading a field's errors, and running the CLI as a real process.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { openDatabase, type Db, type OpenedDatabase } from '../../src/db/database.ts';
import { createSmtpTransport } from '../../src/mail/transports.ts';
import { BASE_URL, CAPTCHA, Client, pathOf, type Page } from './test-app.ts';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from './smtp-sink.ts';
import { ROOT, runToEnd, type ProcessRun } from './server-process.ts';

export { ROOT };

export const SUBJECTS = {
  verify: '【医療機関等向け総合ポータルサイト】ユーザー登録用URL',
  duplicate: '【医療機関等向け総合ポータルサイト】ユーザー登録のお申し込みについて',
  complete: '【医療機関等向け総合ポータルサイト】ユーザー登録完了メール',
  emailVerify: '【医療機関等向け総合ポータルサイト】メールアドレス変更の確認',
  emailChanged: '【医療機関等向け総合ポータルサイト】メールアドレス変更のお知らせ',
  passwordChanged: '【医療機関等向け総合ポータルサイト】パスワード変更のお知らせ',
  reset: '【医療機関等向け総合ポータルサイト】パスワード変更用URL',
  casePending: '【医療機関等向け総合ポータルサイト】ユーザー登録のお申し込みを受け付けました（確認のお電話）',
  caseRejected: '【医療機関等向け総合ポータルサイト】ユーザー登録のお申し込みについて（開設できませんでした）',
} as const;

export interface RegistrationFields {
  accountType?: 'institution' | 'coordinator';
  code?: string;
  name?: string;
  contact?: string;
  email: string;
  phone?: string;
  codes?: string;
  captcha?: string;
}

/** Opens /register and submits the form (CAPTCHA answered right unless given); returns the page after the PRG. */
export async function register(client: Client, f: RegistrationFields): Promise<Page> {
  await client.open('/register');
  return client.submit({
    action: 'next',
    accountType: f.accountType ?? 'institution',
    code: f.code ?? '',
    name: f.name ?? 'テスト医院',
    contact: f.contact ?? '厚生 太郎',
    email: f.email,
    phone: f.phone ?? '03-1234-5678',
    codes: f.codes ?? '',
    captcha: f.captcha ?? CAPTCHA,
  });
}

/** The link of a registration mail: {BASE_URL}/register/verify?token=<32>. */
export function registrationLinkOf(mail: ReceivedMail): string {
  const m = /https?:\/\/\S+\/register\/verify\?token=[A-Za-z0-9]{32}/.exec(mail.text);
  if (!m) throw new Error(`no registration link in the mail:\n${mail.text}`);
  return m[0];
}

/** The link of a change-of-address mail: {BASE_URL}/account/email/verify?token=<32>. */
export function emailLinkOf(mail: ReceivedMail): string {
  const m = /https?:\/\/\S+\/account\/email\/verify\?token=[A-Za-z0-9]{32}/.exec(mail.text);
  if (!m) throw new Error(`no change-of-address link in the mail:\n${mail.text}`);
  return m[0];
}

/** The ユーザー名 / ユーザーID written in a completion mail or page. */
export function namesIn(text: string): { username: string | undefined; userId: string | undefined } {
  return { username: /ユーザー名：(\S+)/.exec(text)?.[1], userId: /ユーザーID：(\S+)/.exec(text)?.[1] };
}

/** The first mail to `to` whose subject is `subject` (waits for it). */
export function mailTo(portal: { sink: SmtpSink }, to: string, subject: string, ms?: number): Promise<ReceivedMail> {
  return portal.sink.waitFor((m) => m.to.includes(to) && m.subject === subject, ms);
}

/** Mails that reached `to` so far. */
export function mailsTo(portal: { sink: SmtpSink }, to: string): ReceivedMail[] {
  return portal.sink.mails.filter((m) => m.to.includes(to));
}

/** Registers, follows the mailed link and sets the password; returns the completion page and the completion mail. */
export async function registerFully(
  portal: { sink: SmtpSink },
  client: Client,
  f: RegistrationFields,
  password: string,
): Promise<{ page: Page; mail: ReceivedMail; username: string; userId: string | undefined }> {
  const sent = await register(client, f);
  if (sent.status !== 200) throw new Error(`registration form refused: ${sent.status} ${sent.text.slice(0, 400)}`);
  const verify = await mailTo(portal, f.email, SUBJECTS.verify);
  await client.open(pathOf(registrationLinkOf(verify)));
  const page = await client.submit({ password, confirm: password });
  if (page.status !== 200) throw new Error(`password refused: ${page.status} ${page.text.slice(0, 400)}`);
  const mail = await mailTo(portal, f.email, SUBJECTS.complete);
  const { username, userId } = namesIn(mail.text);
  if (!username) throw new Error(`no username in the completion mail:\n${mail.text}`);
  return { page, mail, username, userId };
}

/** Logs in through /login; returns the page after the redirect (or the refused page). */
export async function logIn(client: Client, username: string, password: string): Promise<Page> {
  await client.open('/login');
  return client.submit({ username, password });
}

/** The messages shown below field `id` (its `id-error` block), in order; [] when none. */
export function fieldErrors(page: Page, id: string): string[] {
  const m = new RegExp(`<div id="${id}-error" class="field__error">([\\s\\S]*?)</div>`).exec(page.body);
  if (!m) return [];
  return [...m[1]!.matchAll(/<p>([\s\S]*?)<\/p>/g)].map((x) =>
    x[1]!
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'"),
  );
}

export type CliRun = ProcessRun;

/** Runs `node --import tsx src/cli.ts …` as the operator would, on the database at `databaseUrl`; `input` is piped to stdin. */
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<CliRun> {
  return runToEnd(
    [process.execPath, '--import', 'tsx', 'src/cli.ts', ...args],
    { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', ...env },
    { input },
  );
}

/** Rows of the outbox addressed to `to` (what the portal queued, sent or not). */
export async function outboxTo(
  portal: { database: { db: Db } },
  to: string,
): Promise<Array<{ kind: string; subject: string; status: string }>> {
  return portal.database.db
    .selectFrom('outbox')
    .select(['kind', 'subject', 'status'])
    .where('to_addr', '=', to)
    .orderBy('created_at')
    .execute();
}

/** The account row of a username or user ID (closed ones too). */
export async function userRow(portal: { database: { db: Db } }, login: string) {
  return portal.database.db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb('username', '=', login), eb('user_id', '=', login)]))
    .executeTakeFirst();
}

export interface PortalOnFile {
  app: FastifyInstance;
  database: OpenedDatabase;
  sink: SmtpSink;
  client(): Client;
  close(): Promise<void>;
}

/**
 * A portal on an existing database (e.g. the SQLite file a CLI process works on), configured like
 * startTestPortal's, with its own SMTP sink and the real clock. The database must already be migrated.
 * `auditKey`: the CLI's AUDIT_KEY, so that the portal's chainer links onto what the CLI chained (H10, H12).
 */
export async function startPortalOn(databaseUrl: string, o: { auditKey?: string } = {}): Promise<PortalOnFile> {
  const database = openDatabase(databaseUrl);
  const sink = await startSmtpSink();
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      BASE_URL,
      SMTP_URL: sink.url,
      CAPTCHA_TEST_ANSWER: CAPTCHA,
      SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
      MAIL_RETRY_BASE_MS: '100',
      ...(o.auditKey ? { AUDIT_KEY: o.auditKey } : {}),
    },
    { persistSecret: false },
  );
  const transport = createSmtpTransport(sink.url);
  const app = await buildApp({ config, db: database.db, dialect: database.dialect, transport, mailPollMs: 50 });
  await app.ready();
  return {
    app,
    database,
    sink,
    client: () => new Client(app),
    async close() {
      await app.close();
      transport.close(); // pooled SMTP connections would otherwise hold the sink's stop() for its 30 s timeout
      await sink.stop();
      await database.db.destroy();
    },
  };
}
