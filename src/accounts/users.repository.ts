import { sql } from 'kysely';
import { likePattern } from '../content/search-text.ts';
/** SQL for accounts. Functions take `db` first so that the caller owns the transaction. */
import type { Db } from '../db/database.ts';
import type { LockOrigin, User, UsersTable } from '../db/schema.ts';
import { isOperatorLock } from './lock-state.ts';
import { deleteSessionsOfUser } from './sessions.repository.ts';
import { releaseSources } from './login-throttle.repository.ts';

/**
 * Finds the account a person means by what they typed: institution users by ユーザー名,
 * coordinators by ユーザーID (their username is accepted too). `key` is already normalised.
 */
export async function findUserByLoginKey(db: Db, key: string): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb('username', '=', key), eb('user_id', '=', key)]))
    .where('status', '!=', 'closed')
    .executeTakeFirst();
}

/** findUserByLoginKey for several keys at once: each key that names an account maps to it. */
export async function findUsersByLoginKeys(
  db: Db,
  keys: string[],
  o: { lock?: boolean } = {},
): Promise<Map<string, User>> {
  const wanted = [...new Set(keys.filter(Boolean))];
  const found = new Map<string, User>();
  if (wanted.length === 0) return found;
  let q = db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb('username', 'in', wanted), eb('user_id', 'in', wanted)]))
    .where('status', '!=', 'closed')
    .orderBy('id');
  // PostgreSQL: the rows stay locked until the caller's transaction ends (in id order, so two callers never deadlock).
  if (o.lock) q = q.forUpdate();
  const users = await q.execute();
  for (const u of users) {
    if (wanted.includes(u.username)) found.set(u.username, u);
    if (u.user_id && wanted.includes(u.user_id)) found.set(u.user_id, u);
  }
  return found;
}

/** True when the name is used by any account, closed ones included (names are never reused). */
export async function isNameEverUsed(db: Db, key: string): Promise<boolean> {
  const r = await db
    .selectFrom('users')
    .select('id')
    .where((eb) => eb.or([eb('username', '=', key), eb('user_id', '=', key)]))
    .executeTakeFirst();
  return r !== undefined;
}

/** PostgreSQL: locks the account's row until the caller's transaction ends (SQLite transactions are serial already). */
export async function lockUser(db: Db, id: string): Promise<void> {
  await db.selectFrom('users').select('id').where('id', '=', id).forUpdate().execute();
}

export async function findUserById(db: Db, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The names of several accounts by internal id (the audit search and its CSV show these, never the ids). */
export async function findAccountNames(
  db: Db,
  ids: string[],
): Promise<Map<string, Pick<User, 'id' | 'username' | 'user_id'>>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, Pick<User, 'id' | 'username' | 'user_id'>>();
  // In parts, so that a long export stays below the databases' limits on bound parameters.
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await db
      .selectFrom('users')
      .select(['id', 'username', 'user_id'])
      .where('id', 'in', unique.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.id, r);
  }
  return out;
}

export async function isLoginKeyTaken(db: Db, key: string): Promise<boolean> {
  return (await findUserByLoginKey(db, key)) !== undefined;
}

export async function insertUser(db: Db, user: UsersTable): Promise<void> {
  await db.insertInto('users').values(user).execute();
}

export async function countUsers(db: Db): Promise<number> {
  const r = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * The account-wide half of a login's attempt slot (L2, issue 10 item 3): counts the attempt in advance, in one
 * conditional statement, unless the account is under a temporary or operator lock or already has `threshold`
 * attempts in progress. Returns the new count, or null when no attempt is left.
 */
export async function takeLoginAttempt(db: Db, id: string, threshold: number, now: number): Promise<number | null> {
  const r = await db
    .updateTable('users')
    .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .where('failed_logins', '<', threshold)
    .where((eb) =>
      eb.or([
        eb('status', '!=', 'locked'),
        eb.and([eb('locked_until', 'is not', null), eb('locked_until', '<=', now)]),
      ]),
    )
    .returning('failed_logins')
    .executeTakeFirst();
  return r ? r.failed_logins : null;
}

/** Locks until `until`; the failure count starts again, so that after the lock one typo does not lock again (L2). */
export async function lockUserUntil(db: Db, id: string, until: number, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ status: 'locked', locked_until: until, locked_by: 'failures', failed_logins: 0, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Clears failures and any expired temporary lock after a successful login. */
export async function recordLoginSuccess(db: Db, user: User, now: number): Promise<void> {
  const status = user.status === 'locked' ? 'active' : user.status;
  await db
    .updateTable('users')
    .set({
      failed_logins: 0,
      locked_until: null,
      ...(user.status === 'locked' ? { locked_by: null } : {}),
      status,
      updated_at: now,
    })
    .where('id', '=', user.id)
    .execute();
}

export async function updatePasswordHash(db: Db, id: string, passwordHash: string, now: number): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', id).execute();
}

/**
 * Sets a new password and lifts a lockout from failed logins. A lock an operator set (support, admin, CLI) stays:
 * the password changes, the account stays locked until an operator unlocks it (S12).
 */
export async function setPasswordAfterReset(db: Db, user: User, passwordHash: string, now: number): Promise<void> {
  const keepLock = isOperatorLock(user);
  await db
    .updateTable('users')
    .set({
      password_hash: passwordHash,
      legacy_hash: null,
      password_changed_at: now,
      failed_logins: 0,
      ...(keepLock ? {} : { locked_until: null, locked_by: null }),
      status: user.status === 'locked' && !keepLock ? 'active' : user.status,
      updated_at: now,
    })
    .where('id', '=', user.id)
    .execute();
  await releaseSources(db, `u:${user.id}`, now);
}

/** The open (not closed) institution-user account of an institution code. */
export async function findInstitutionAccount(db: Db, code: string): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('institution_code', '=', code)
    .where('account_type', '=', 'institution')
    .where('status', '!=', 'closed')
    .executeTakeFirst();
}

/** Open accounts whose address is `email` (compared in lower case). */
export async function findAccountsByEmail(db: Db, email: string): Promise<User[]> {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .where('status', '!=', 'closed')
    .execute();
}

/** Closes the account; its sessions end with it, in the caller's transaction (V1). Returns how many ended. */
export async function closeUser(db: Db, id: string, now: number): Promise<number> {
  await db.updateTable('users').set({ status: 'closed', updated_at: now }).where('id', '=', id).execute();
  return deleteSessionsOfUser(db, id);
}

export async function setUserEmail(db: Db, user: User, email: string, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({
      email,
      email_verified_at: now,
      status: user.status === 'provisional' ? 'active' : user.status,
      updated_at: now,
    })
    .where('id', '=', user.id)
    .execute();
}

export async function insertCoordinatorCodes(db: Db, userId: string, codes: string[]): Promise<void> {
  if (codes.length === 0) return;
  await db
    .insertInto('coordinator_institutions')
    .values(codes.map((c) => ({ user_id: userId, institution_code: c })))
    .execute();
}

export async function listCoordinatorCodes(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('coordinator_institutions')
    .select('institution_code')
    .where('user_id', '=', userId)
    .orderBy('institution_code')
    .execute();
  return rows.map((r) => r.institution_code);
}

export async function replaceLegacyHash(db: Db, id: string, passwordHash: string, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, legacy_hash: null, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Sets a password the user chose while logged in. */
export async function changePassword(db: Db, id: string, passwordHash: string, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, legacy_hash: null, password_changed_at: now, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Any account (closed ones too) whose username or user ID is `key`. */
export async function findUserByAnyName(db: Db, key: string): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb('username', '=', key), eb('user_id', '=', key)]))
    .executeTakeFirst();
}

export interface UserFilter {
  status?: User['status'] | undefined;
  accountType?: User['account_type'] | undefined;
  search?: string | undefined;
  limit: number;
}

export async function listUsers(db: Db, f: UserFilter): Promise<User[]> {
  let q = db.selectFrom('users').selectAll().orderBy('created_at').limit(f.limit);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.accountType) q = q.where('account_type', '=', f.accountType);
  if (f.search) {
    const like = likePattern(f.search.toLowerCase());
    const likeName = likePattern(f.search);
    q = q.where((eb) =>
      eb.or([
        sql<boolean>`username like ${like} escape '\\'`,
        sql<boolean>`user_id like ${like} escape '\\'`,
        sql<boolean>`institution_code like ${like} escape '\\'`,
        sql<boolean>`lower(email) like ${like} escape '\\'`,
        sql<boolean>`display_name like ${likeName} escape '\\'`,
        sql<boolean>`institution_name like ${likeName} escape '\\'`,
      ]),
    );
  }
  return q.execute();
}

/**
 * An operator's lock: no end date, until an operator unlocks; `by` says who (support cannot lift an admin's).
 * Its sessions end with it (V1); returns how many.
 */
export async function lockUserIndefinitely(
  db: Db,
  id: string,
  now: number,
  by: Exclude<LockOrigin, 'failures'> = 'cli',
): Promise<number> {
  await db
    .updateTable('users')
    .set({ status: 'locked', locked_until: null, locked_by: by, updated_at: now })
    .where('id', '=', id)
    .execute();
  return deleteSessionsOfUser(db, id);
}

export async function unlockUser(db: Db, user: User, now: number, provisional: boolean): Promise<void> {
  await db
    .updateTable('users')
    .set({
      status: provisional ? 'provisional' : 'active',
      locked_until: null,
      locked_by: null,
      failed_logins: 0,
      updated_at: now,
    })
    .where('id', '=', user.id)
    .execute();
  await releaseSources(db, `u:${user.id}`, now);
}

/** An operator sets the address (a placeholder makes the account provisional). */
export async function setEmailByOperator(
  db: Db,
  user: User,
  email: string,
  provisional: boolean,
  now: number,
): Promise<void> {
  const status = user.status === 'locked' ? 'locked' : provisional ? 'provisional' : 'active';
  await db
    .updateTable('users')
    .set({ email, status, email_verified_at: null, updated_at: now })
    .where('id', '=', user.id)
    .execute();
}

/** The call center marks the address wrong: no reset mail goes there, and the user must register a new one. */
export async function markEmailWrong(db: Db, id: string, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ status: 'provisional', email_verified_at: null, updated_at: now })
    .where('id', '=', id)
    .execute();
  await db
    .updateTable('reset_tokens')
    .set({ cancelled_at: now })
    .where('user_id', '=', id)
    .where('used_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .execute();
}
