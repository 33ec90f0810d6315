/** Databases for the benchmark: a fresh SQLite file or PostgreSQL schema, accounts, queued mails, outcomes. */
import { sql } from 'kysely';
import { freshDatabase, PG_URL, type TargetName, type TestDatabase } from '../../test/helpers/db-targets.ts';
import { POLICIES } from '../../src/accounts/password-policy.ts';
import { createUser } from '../../src/accounts/create-user.ts';
import { insertUser } from '../../src/accounts/users.repository.ts';
import { randomAlnum, randomId } from '../../src/security/tokens.ts';
import { enqueueMail } from '../../src/mail/outbox.repository.ts';
import { passwordResetMail } from '../../src/mail/templates/password-reset.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import type { Db } from '../../src/db/database.ts';
import { SESSION_SECRET } from './portal.ts';

export const BENCH_PASSWORD = 'Kanri2026Pass';

export interface BenchDatabase extends TestDatabase {
  /** DATABASE_URL for the portal's process (PostgreSQL: the schema through the `options` parameter). */
  serverUrl: string;
}

export async function openBenchDatabase(target: TargetName): Promise<BenchDatabase> {
  const d = await freshDatabase(target);
  const serverUrl =
    target === 'sqlite' ? d.url : `${PG_URL}?options=${encodeURIComponent(`-c search_path=${d.schema}`)}`;
  return { ...d, serverUrl };
}

export interface BenchUser {
  username: string;
  email: string;
}

/**
 * Creates `count` active accounts `PREFIX-0001`… with the password BENCH_PASSWORD. The first goes through
 * createUser (policy, argon2id hash with the portal's parameters); the others reuse that hash, which is what
 * the portal would store for the same password anyway (argon2id salts make every hash differ, not its cost).
 */
export async function createBenchUsers(db: Db, prefix: string, count: number): Promise<BenchUser[]> {
  const now = Date.now();
  const first = await createUser(db, POLICIES.portal, now, {
    username: `${prefix}-0001`,
    email: `${prefix}-0001@example.jp`,
    password: BENCH_PASSWORD,
  });
  if (!first.ok) throw new Error(`cannot create a benchmark account: ${JSON.stringify(first)}`);
  const users: BenchUser[] = [{ username: first.user.username, email: first.user.email }];
  for (let i = 2; i <= count; i++) {
    const username = `${prefix}-${String(i).padStart(4, '0')}`;
    const email = `${username}@example.jp`;
    await insertUser(db, { ...first.user, id: randomId(), username, email, display_name: username });
    users.push({ username, email });
  }
  return users;
}

/** Queues `count` reset mails as the portal does (sealed body of the seed's text), due now. */
export async function queueResetMails(db: Db, count: number, baseUrl: string): Promise<void> {
  const box = createSecretBox(SESSION_SECRET);
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const token = randomAlnum(32);
    const mail = passwordResetMail('ja', `${baseUrl}/passwordreset.do?sysparm_tiny=${token}`, 60, {
      baseUrl,
      callCenterPhone: '0800-080-4583',
      contactLines: undefined,
    });
    await enqueueMail(db, box, now, {
      kind: 'password_reset',
      userId: null,
      to: `mail-${i}@example.jp`,
      subject: mail.subject,
      text: mail.text,
    });
  }
}

/** How the portal decided each reset request (audit trail), e.g. { mail_queued: 12000 }. */
export async function resetOutcomes(db: Db, since: number): Promise<Record<string, number>> {
  // Stage ② only records the request; the portal's worker decides it a moment later (while the portal runs).
  const until = Date.now() + 120_000;
  for (;;) {
    const waiting = await db
      .selectFrom('reset_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(waiting.n) === 0) break;
    if (Date.now() > until) throw new Error(`${waiting.n} reset requests still undecided`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const rows = await db
    .selectFrom('audit_log')
    .select(['outcome', sql<number>`count(*)`.as('n')])
    .where('event', '=', 'password_reset.requested')
    .where('at', '>=', since)
    .groupBy('outcome')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]));
}

/** How the portal decided each login (audit trail), e.g. { ok: 1500 }. */
export async function loginOutcomes(db: Db, since: number): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['outcome', sql<number>`count(*)`.as('n')])
    .where('event', '=', 'login')
    .where('at', '>=', since)
    .groupBy('outcome')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]));
}
