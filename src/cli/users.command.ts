/** `npm run cli -- users …`: create, list, show, lock, unlock, set-email. Every change is audited (actor cli). */
import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import { POLICIES } from '../accounts/password-policy.ts';
import { createUser } from '../accounts/create-user.ts';
import { isEmailAddress, isProvisionalPlaceholder, normalizeIdentifier } from '../accounts/identity.ts';
import { lockOriginOf } from '../accounts/lock-state.ts';
import {
  findUserByAnyName,
  listCoordinatorCodes,
  listUsers,
  lockUserIndefinitely,
  setEmailByOperator,
  unlockUser,
} from '../accounts/users.repository.ts';
import { cancelOpenTokens } from '../flows/recovery/recovery.repository.ts';
import { appendAudit, listAuditForUser } from '../security/audit.repository.ts';
import { translator } from '../web/i18n/i18n.ts';
import type { User } from '../db/schema.ts';

const PROBLEMS: Record<string, string> = {
  username_invalid: 'the username must be 3–64 characters: lower-case letters, digits, ".", "_" or "-"',
  username_taken: 'that username is already used (as a username or a user ID)',
  user_id_missing: 'a coordinator needs --user-id',
  user_id_invalid:
    'the user ID must be 3–64 characters: lower-case letters, digits, ".", "_" or "-", and differ from the username',
  user_id_taken: 'that user ID is already used (as a username or a user ID)',
  email_invalid: 'the e-mail must be an address, or a provisional placeholder ending in @01 … @48',
  institution_code_invalid: 'the institution code must be 10 digits',
};

export const USERS_USAGE = `  users create --username U --email E --password P [--name N] [--institution-code C] [--coordinator --user-id ID]
  users list [--status active|locked|provisional|closed] [--type institution|coordinator] [--search TEXT] [--limit N]
  users show LOGIN
  users lock LOGIN --reason TEXT
  users unlock LOGIN --reason TEXT
  users set-email LOGIN EMAIL --reason TEXT`;

function describe(u: User): string {
  return `${u.username}${u.user_id ? ` (user ID ${u.user_id})` : ''}`;
}

function iso(at: number | null): string {
  return at === null ? '-' : new Date(at).toISOString();
}

export async function usersCommand(db: Db, config: Config, sub: string | undefined, args: string[]): Promise<number> {
  const now = Date.now();
  const audit = (event: string, userId: string, detail: Record<string, unknown>) =>
    appendAudit(db, now, { event, outcome: 'ok', userId, actor: `cli:${process.env.USER ?? 'operator'}`, detail });

  if (sub === 'create') {
    const { values } = parseArgs({
      args,
      options: {
        username: { type: 'string' },
        email: { type: 'string' },
        password: { type: 'string' },
        name: { type: 'string' },
        'institution-code': { type: 'string' },
        coordinator: { type: 'boolean' },
        'user-id': { type: 'string' },
      },
      strict: true,
    });
    const missing = ['username', 'email', 'password'].filter((k) => !values[k as 'username']);
    if (missing.length) {
      console.error(`Not created: missing ${missing.map((m) => `--${m}`).join(', ')}\n\nUsage:\n${USERS_USAGE}`);
      return 2;
    }
    const policy = POLICIES[config.passwordPolicy];
    const result = await createUser(db, policy, now, {
      username: values.username!,
      email: values.email!,
      password: values.password!,
      displayName: values.name,
      institutionCode: values['institution-code'],
      coordinator: values.coordinator ?? false,
      userId: values['user-id'],
    });
    if (!result.ok) {
      if (result.problem === 'password_policy') {
        const t = translator('en');
        console.error(
          `Not created: the password breaks the "${policy.name}" policy: ${result.violations.map((v) => t(v, { min: policy.min, max: policy.max })).join(' ')}`,
        );
      } else console.error(`Not created: ${PROBLEMS[result.problem]}.`);
      return 1;
    }
    const u = result.user;
    await audit('user.created', u.id, { accountType: u.account_type, status: u.status });
    console.log(
      `Created ${u.account_type === 'coordinator' ? 'coordinator' : 'institution user'} "${u.username}"` +
        `${u.user_id ? ` with user ID "${u.user_id}" (used to log in and to reset the password)` : ''}, e-mail ${u.email}, status ${u.status}.` +
        (u.status === 'provisional'
          ? ' The address is a provisional placeholder: password reset will send no mail until it is replaced.'
          : ''),
    );
    return 0;
  }

  if (sub === 'list') {
    const { values } = parseArgs({
      args,
      options: {
        status: { type: 'string' },
        type: { type: 'string' },
        search: { type: 'string' },
        limit: { type: 'string' },
      },
      strict: true,
    });
    if (values.status && !['active', 'locked', 'provisional', 'closed'].includes(values.status)) {
      console.error('--status must be active, locked, provisional or closed');
      return 2;
    }
    if (values.type && !['institution', 'coordinator'].includes(values.type)) {
      console.error('--type must be institution or coordinator');
      return 2;
    }
    const limit = values.limit ? Number(values.limit) : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10000) {
      console.error('--limit must be a whole number from 1 to 10000');
      return 2;
    }
    const users = await listUsers(db, {
      status: values.status as User['status'] | undefined,
      accountType: values.type as User['account_type'] | undefined,
      search: values.search,
      limit,
    });
    console.log(['username', 'user_id', 'type', 'status', 'institution_code', 'email', 'name'].join('\t'));
    for (const u of users)
      console.log(
        [
          u.username,
          u.user_id ?? '-',
          u.account_type,
          u.status,
          u.institution_code ?? '-',
          u.email,
          u.display_name,
        ].join('\t'),
      );
    // Reading personal data is an operator action too (MHLW 6.0 §17): who listed what.
    await appendAudit(db, now, {
      event: 'users.listed',
      outcome: 'ok',
      actor: `cli:${process.env.USER ?? 'operator'}`,
      detail: { filter: { status: values.status, type: values.type, search: values.search }, count: users.length },
    });
    console.log(`${users.length} account(s).`);
    return 0;
  }

  const login = args[0];
  if (!sub || !['show', 'lock', 'unlock', 'set-email'].includes(sub)) {
    console.error(`Unknown users command.\n\nUsage:\n${USERS_USAGE}`);
    return 2;
  }
  if (!login) {
    console.error(`Missing LOGIN (a username or user ID).\n\nUsage:\n${USERS_USAGE}`);
    return 2;
  }
  const user = await findUserByAnyName(db, normalizeIdentifier(login));
  if (!user) {
    console.error(`No account has the username or user ID "${login}".`);
    return 1;
  }

  if (sub === 'show') {
    await audit('user.viewed', user.id, {});
    const codes = user.account_type === 'coordinator' ? await listCoordinatorCodes(db, user.id) : [];
    const lines = [
      `username          ${user.username}`,
      `user ID           ${user.user_id ?? '-'}`,
      `type              ${user.account_type}`,
      `status            ${user.status}${user.status === 'locked' ? ` (until ${user.locked_until ? iso(user.locked_until) : 'an operator unlocks'}; locked by ${lockOriginOf(user)})` : ''}`,
      `failed logins     ${user.failed_logins}`,
      `e-mail            ${user.email}${isProvisionalPlaceholder(user.email) ? ' (provisional placeholder: no mail can be sent)' : ''}`,
      `name              ${user.display_name}`,
      `institution       ${user.institution_code ?? '-'} ${user.institution_name ?? ''}`,
      `phone             ${user.phone ?? '-'}`,
      `created           ${iso(user.created_at)}`,
      `password changed  ${iso(user.password_changed_at)}`,
      `old-portal hash   ${user.legacy_hash ? 'yes (replaced at the first login)' : 'no'}`,
    ];
    if (codes.length) lines.push(`coordinates       ${codes.join(', ')}`);
    console.log(lines.join('\n'));
    const events = await listAuditForUser(db, user.id, 15);
    if (events.length) {
      console.log('\nRecent events:');
      for (const e of events) console.log(`  ${iso(e.at)}  ${e.event}  ${e.outcome}${e.ip ? `  from ${e.ip}` : ''}`);
    }
    return 0;
  }

  const { values, positionals } = parseArgs({
    args: args.slice(1),
    options: { reason: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  // A closed account (superseded by a new registration) stays closed: reopening it would give its
  // institution code a second open account.
  if (user.status === 'closed') {
    console.error(`Nothing changed: ${describe(user)} is closed (superseded by a new registration).`);
    return 1;
  }
  if (!values.reason?.trim()) {
    console.error('Nothing changed: give --reason "…" (it is kept in the audit trail).');
    return 2;
  }
  const reason = values.reason.trim().slice(0, 500);

  if (sub === 'lock') {
    await db.transaction().execute(async (trx) => {
      const sessions = await lockUserIndefinitely(trx, user.id, now, 'cli');
      await cancelOpenTokens(trx, user.id, now, null);
      await appendAudit(trx, now, {
        event: 'user.locked',
        outcome: 'ok',
        userId: user.id,
        actor: `cli:${process.env.USER ?? 'operator'}`,
        detail: { reason, sessionsEnded: sessions },
      });
    });
    console.log(`Locked ${describe(user)} until an operator unlocks it; its sessions and reset links have ended.`);
    return 0;
  }
  if (sub === 'unlock') {
    await unlockUser(db, user, now, isProvisionalPlaceholder(user.email));
    await audit('user.unlocked', user.id, { reason, wasStatus: user.status });
    console.log(
      `Unlocked ${describe(user)}${user.status === 'locked' ? '' : ' (it was not locked; its failure count was reset)'}.`,
    );
    return 0;
  }
  // set-email
  const email = positionals[0]?.trim();
  if (!email) {
    console.error(`Missing EMAIL.\n\nUsage:\n${USERS_USAGE}`);
    return 2;
  }
  const provisional = isProvisionalPlaceholder(email);
  if (!provisional && !isEmailAddress(email)) {
    console.error(`Nothing changed: "${email}" is neither an address nor a placeholder ending in @01 … @48.`);
    return 1;
  }
  await db.transaction().execute(async (trx) => {
    await setEmailByOperator(trx, user, email, provisional, now);
    await cancelOpenTokens(trx, user.id, now, null);
    await appendAudit(trx, now, {
      event: 'user.email_set',
      outcome: 'ok',
      userId: user.id,
      actor: `cli:${process.env.USER ?? 'operator'}`,
      detail: { reason, provisional },
    });
  });
  console.log(
    `Set the e-mail of ${describe(user)} to ${email}${provisional ? ' (a provisional placeholder: no mail will be sent)' : ''}; open reset links have ended.`,
  );
  return 0;
}
