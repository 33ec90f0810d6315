/** Creating an account (CLI, demo data): every rule checked, a result value either way. */
import type { Db } from '../db/database.ts';
import type { User } from '../db/schema.ts';
import { checkPassword, type Policy, type PolicyViolation } from './password-policy.ts';
import { hashPassword } from './passwords.ts';
import { isEmailAddress, isProvisionalPlaceholder, normalizeIdentifier, USERNAME_PATTERN } from './identity.ts';
import { insertUser, isNameEverUsed as isLoginKeyTaken } from './users.repository.ts';
import { randomId } from '../security/tokens.ts';

export interface NewUserInput {
  username: string;
  email: string;
  password: string;
  displayName?: string | undefined;
  institutionCode?: string | undefined;
  coordinator?: boolean;
  userId?: string | undefined;
  institutionName?: string | undefined;
  phone?: string | undefined;
}

export type CreateUserResult =
  | { ok: true; user: User }
  | {
      ok: false;
      problem:
        | 'username_invalid'
        | 'username_taken'
        | 'user_id_invalid'
        | 'user_id_taken'
        | 'user_id_missing'
        | 'email_invalid'
        | 'institution_code_invalid';
    }
  | { ok: false; problem: 'password_policy'; violations: PolicyViolation[] };

export async function createUser(db: Db, policy: Policy, now: number, input: NewUserInput): Promise<CreateUserResult> {
  const username = normalizeIdentifier(input.username);
  if (!USERNAME_PATTERN.test(username)) return { ok: false, problem: 'username_invalid' };
  if (await isLoginKeyTaken(db, username)) return { ok: false, problem: 'username_taken' };
  let userId: string | null = null;
  if (input.coordinator) {
    if (!input.userId) return { ok: false, problem: 'user_id_missing' };
    userId = normalizeIdentifier(input.userId);
    if (!USERNAME_PATTERN.test(userId) || userId === username) return { ok: false, problem: 'user_id_invalid' };
    if (await isLoginKeyTaken(db, userId)) return { ok: false, problem: 'user_id_taken' };
  }
  const email = input.email.trim();
  const provisional = isProvisionalPlaceholder(email);
  if (!provisional && !isEmailAddress(email)) return { ok: false, problem: 'email_invalid' };
  if (input.institutionCode !== undefined && !/^\d{10}$/.test(input.institutionCode))
    return { ok: false, problem: 'institution_code_invalid' };
  const violations = await checkPassword(policy, input.password, [username, userId]);
  if (violations.length) return { ok: false, problem: 'password_policy', violations };
  const user: User = {
    id: randomId(),
    username,
    user_id: userId,
    account_type: input.coordinator ? 'coordinator' : 'institution',
    email,
    display_name: input.displayName?.trim() || username,
    institution_code: input.institutionCode ?? null,
    status: provisional ? 'provisional' : 'active',
    password_hash: await hashPassword(input.password),
    failed_logins: 0,
    locked_until: null,
    created_at: now,
    updated_at: now,
    password_changed_at: now,
    institution_name: input.institutionName ?? null,
    phone: input.phone ?? null,
    legacy_hash: null,
    email_verified_at: null,
  };
  await insertUser(db, user);
  return { ok: true, user };
}
