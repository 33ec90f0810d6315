/**
 * `npm run cli -- operators …`: the console's accounts (管理者 admin, サポート support, 編集者 editor) and their life
 * cycle: disable (ends the sessions at once), enable, reset-password (typed on stdin, never an argument). Each
 * change is audited with the actor cli:USER.
 */
import { parseArgs } from 'node:util';
import type { Db } from '../db/database.ts';
import { checkPassword, POLICIES } from '../accounts/password-policy.ts';
import { hashPassword } from '../accounts/passwords.ts';
import {
  deleteOperatorSessionsOf,
  disableOperator,
  enableOperator,
  findOperatorByUsername,
  insertOperator,
  listOperators,
  setOperatorPassword,
} from '../admin/operators.repository.ts';
import { readSecretLine } from './read-secret.ts';
import { appendAudit } from '../security/audit.repository.ts';
import { randomId } from '../security/tokens.ts';
import { translator } from '../web/i18n/i18n.ts';

export const OPERATORS_USAGE = `  operators create --username U --password P --role admin|support|editor [--name N]
  operators list
  operators disable USERNAME --reason TEXT   no login any more; the operator's console sessions end at once
  operators enable USERNAME --reason TEXT
  operators reset-password USERNAME [--reason TEXT]
                               the new password is read from stdin (typed, not shown; or piped); sessions end`;

const ROLES = ['admin', 'support', 'editor'] as const;

export async function operatorsCommand(db: Db, sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'list') {
    const ops = await listOperators(db);
    console.log(['username', 'role', 'status', 'name'].join('\t'));
    const now = Date.now();
    for (const o of ops) {
      const status =
        o.status === 'disabled' && o.disabled_at
          ? `disabled since ${new Date(o.disabled_at).toISOString()}`
          : o.locked_until !== null && o.locked_until > now
            ? `${o.status} (locked until ${new Date(o.locked_until).toISOString()})`
            : o.status;
      console.log([o.username, o.role, status, o.display_name].join('\t'));
    }
    console.log(`${ops.length} operator(s).`);
    return 0;
  }
  if (sub === 'disable' || sub === 'enable' || sub === 'reset-password') return lifecycle(db, sub, args);
  if (sub !== 'create') {
    console.error(`Unknown operators command.\n\nUsage:\n${OPERATORS_USAGE}`);
    return 2;
  }
  const { values } = parseArgs({
    args,
    options: {
      username: { type: 'string' },
      password: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
    },
    strict: true,
  });
  const missing = ['username', 'password', 'role'].filter((k) => !values[k as 'username']);
  if (missing.length) {
    console.error(`Not created: missing ${missing.map((m) => `--${m}`).join(', ')}\n\nUsage:\n${OPERATORS_USAGE}`);
    return 2;
  }
  const role = ROLES.find((r) => r === values.role);
  if (!role) {
    console.error('Not created: --role must be admin, support or editor.');
    return 1;
  }
  const username = values.username!.normalize('NFKC').trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(username)) {
    console.error('Not created: the username must be 3–64 characters: lower-case letters, digits, ".", "_" or "-".');
    return 1;
  }
  if (await findOperatorByUsername(db, username)) {
    console.error(`Not created: the operator "${username}" already exists.`);
    return 1;
  }
  // Operators hold more power than portal users: their passwords follow the MHLW preset (13+, letters, digits, symbols).
  const policy = POLICIES.mhlw;
  const violations = await checkPassword(policy, values.password!, [username]);
  if (violations.length) {
    const t = translator('en');
    console.error(
      `Not created: the password breaks the "mhlw" policy required of operators: ${violations.map((v) => t(v, { min: policy.min, max: policy.max })).join(' ')}`,
    );
    return 1;
  }
  const now = Date.now();
  const id = randomId();
  await insertOperator(db, {
    id,
    username,
    display_name: values.name?.trim() || username,
    role,
    password_hash: await hashPassword(values.password!),
    status: 'active',
    failed_logins: 0,
    locked_until: null,
    created_at: now,
    updated_at: now,
  });
  await appendAudit(db, now, {
    event: 'operator.created',
    outcome: 'ok',
    actor: `cli:${process.env.USER ?? 'operator'}`,
    detail: { operator: username, role },
  });
  console.log(`Created operator "${username}" with the role ${role}. The console is at /admin.`);
  return 0;
}

const actor = () => `cli:${process.env.USER ?? 'operator'}`;

/** disable, enable, reset-password of one operator (S12). */
async function lifecycle(db: Db, sub: 'disable' | 'enable' | 'reset-password', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { reason: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const name = positionals[0]?.normalize('NFKC').trim().toLowerCase();
  if (!name || positionals.length > 1) {
    console.error(`Missing USERNAME.\n\nUsage:\n${OPERATORS_USAGE}`);
    return 2;
  }
  const op = await findOperatorByUsername(db, name);
  if (!op) {
    console.error(`No operator has the username "${name}".`);
    return 1;
  }
  const reason = values.reason?.trim().slice(0, 500);
  const now = Date.now();

  if (sub === 'reset-password') {
    const password = await readSecretLine(`New password for operator "${op.username}" (not shown): `);
    if (!password) {
      console.error(
        'Nothing changed: type the new password on stdin (or pipe it in); it is never taken as an argument.',
      );
      return 2;
    }
    const violations = await checkPassword(POLICIES.mhlw, password, [op.username]);
    if (violations.length) {
      const t = translator('en');
      console.error(
        `Nothing changed: the password breaks the "mhlw" policy required of operators: ${violations.map((v) => t(v, { min: POLICIES.mhlw.min, max: POLICIES.mhlw.max })).join(' ')}`,
      );
      return 1;
    }
    const hash = await hashPassword(password);
    const ended = await db.transaction().execute(async (trx) => {
      await setOperatorPassword(trx, op.id, hash, now);
      // Whoever knew the old password may hold a session: a new password ends them all.
      const sessionsEnded = await deleteOperatorSessionsOf(trx, op.id);
      await appendAudit(trx, now, {
        event: 'operator.password_reset',
        outcome: 'ok',
        actor: actor(),
        detail: { operator: op.username, sessionsEnded, ...(reason ? { reason } : {}) },
      });
      return sessionsEnded;
    });
    console.log(
      `Set a new password for operator "${op.username}"; ${ended} console session(s) ended.${op.status === 'disabled' ? ' The operator is still disabled (operators enable).' : ''}`,
    );
    return 0;
  }

  if (!reason) {
    console.error('Nothing changed: give --reason "…" (it is kept in the audit trail).');
    return 2;
  }
  if (sub === 'disable') {
    if (op.status === 'disabled') {
      console.error(`Nothing changed: the operator "${op.username}" is already disabled.`);
      return 1;
    }
    const ended = await db.transaction().execute(async (trx) => {
      await disableOperator(trx, op.id, now);
      const sessionsEnded = await deleteOperatorSessionsOf(trx, op.id);
      await appendAudit(trx, now, {
        event: 'operator.disabled',
        outcome: 'ok',
        actor: actor(),
        detail: { operator: op.username, reason, sessionsEnded },
      });
      return sessionsEnded;
    });
    console.log(`Disabled operator "${op.username}": no login any more; ${ended} console session(s) ended.`);
    return 0;
  }
  if (op.status === 'active') {
    console.error(`Nothing changed: the operator "${op.username}" is not disabled.`);
    return 1;
  }
  await db.transaction().execute(async (trx) => {
    await enableOperator(trx, op.id, now);
    await appendAudit(trx, now, {
      event: 'operator.enabled',
      outcome: 'ok',
      actor: actor(),
      detail: { operator: op.username, reason },
    });
  });
  console.log(`Enabled operator "${op.username}": the console accepts its login again.`);
  return 0;
}
