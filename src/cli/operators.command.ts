/** `npm run cli -- operators …`: the console's accounts (管理者 admin, サポート support, 編集者 editor). */
import { parseArgs } from 'node:util';
import type { Db } from '../db/database.ts';
import { checkPassword, POLICIES } from '../accounts/password-policy.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { findOperatorByUsername, insertOperator, listOperators } from '../admin/operators.repository.ts';
import { appendAudit } from '../security/audit.repository.ts';
import { randomId } from '../security/tokens.ts';
import { translator } from '../web/i18n/i18n.ts';

export const OPERATORS_USAGE = `  operators create --username U --password P --role admin|support|editor [--name N]
  operators list`;

const ROLES = ['admin', 'support', 'editor'] as const;

export async function operatorsCommand(db: Db, sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'list') {
    const ops = await listOperators(db);
    console.log(['username', 'role', 'status', 'name'].join('\t'));
    for (const o of ops) console.log([o.username, o.role, o.status, o.display_name].join('\t'));
    console.log(`${ops.length} operator(s).`);
    return 0;
  }
  if (sub !== 'create') {
    console.error(`Unknown operators command.\n\nUsage:\n${OPERATORS_USAGE}`);
    return 2;
  }
  const { values } = parseArgs({ args, options: { username: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' } }, strict: true });
  const missing = ['username', 'password', 'role'].filter((k) => !values[k as 'username']);
  if (missing.length) {
    console.error(`Not created: missing ${missing.map((m) => `--${m}`).join(', ')}\n\nUsage:\n${OPERATORS_USAGE}`);
    return 2;
  }
  const role = ROLES.find((r) => r === values.role);
  if (!role) { console.error('Not created: --role must be admin, support or editor.'); return 1; }
  const username = values.username!.normalize('NFKC').trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(username)) { console.error('Not created: the username must be 3–64 characters: lower-case letters, digits, ".", "_" or "-".'); return 1; }
  if (await findOperatorByUsername(db, username)) { console.error(`Not created: the operator "${username}" already exists.`); return 1; }
  // Operators hold more power than portal users: their passwords follow the MHLW preset (13+, letters, digits, symbols).
  const policy = POLICIES.mhlw;
  const violations = await checkPassword(policy, values.password!, [username]);
  if (violations.length) {
    const t = translator('en');
    console.error(`Not created: the password breaks the "mhlw" policy required of operators: ${violations.map((v) => t(v, { min: policy.min, max: policy.max })).join(' ')}`);
    return 1;
  }
  const now = Date.now();
  const id = randomId();
  await insertOperator(db, {
    id, username, display_name: values.name?.trim() || username, role, password_hash: await hashPassword(values.password!),
    status: 'active', failed_logins: 0, locked_until: null, created_at: now, updated_at: now,
  });
  await appendAudit(db, now, { event: 'operator.created', outcome: 'ok', actor: `cli:${process.env.USER ?? 'operator'}`, detail: { operator: username, role } });
  console.log(`Created operator "${username}" with the role ${role}. The console is at /admin.`);
  return 0;
}
