/**
 * The operator's command line: npm run cli -- <command>.
 *   migrate
 *   users create --username U --email E --password P [--name N] [--institution-code C] [--coordinator --user-id ID]
 *   audit verify
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { migrateToLatest, openDatabase } from './db/database.ts';
import { POLICIES } from './accounts/password-policy.ts';
import { createUser } from './accounts/create-user.ts';
import { appendAudit, verifyAudit } from './security/audit.repository.ts';
import { translator } from './web/i18n/i18n.ts';

const USAGE = `Usage: npm run cli -- <command>
  migrate                      apply pending database migrations
  users create --username U --email E --password P [--name N] [--institution-code C]
               [--coordinator --user-id ID]
                               create an account (an address ending in @01…@48 makes it provisional)
  audit verify                 check that no audit entry was altered or removed`;

const PROBLEMS: Record<string, string> = {
  username_invalid: 'the username must be 3–64 characters: lower-case letters, digits, ".", "_" or "-"',
  username_taken: 'that username is already used (as a username or a user ID)',
  user_id_missing: 'a coordinator needs --user-id',
  user_id_invalid: 'the user ID must be 3–64 characters: lower-case letters, digits, ".", "_" or "-", and differ from the username',
  user_id_taken: 'that user ID is already used (as a username or a user ID)',
  email_invalid: 'the e-mail must be an address, or a provisional placeholder ending in @01 … @48',
  institution_code_invalid: 'the institution code must be 10 digits',
};

async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Configuration error: ${err.message}`);
      return 1;
    }
    throw err;
  }
  if (!cmd || cmd === 'help' || cmd === '--help') {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  const { db, dialect } = openDatabase(config.databaseUrl);
  try {
    if (cmd === 'migrate') {
      const applied = await migrateToLatest(db);
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
      return 0;
    }
    await migrateToLatest(db);
    if (cmd === 'users' && sub === 'create') {
      const { values } = parseArgs({
        args: rest,
        options: {
          username: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' },
          'institution-code': { type: 'string' }, coordinator: { type: 'boolean' }, 'user-id': { type: 'string' },
        },
        strict: true,
      });
      const missing = ['username', 'email', 'password'].filter((k) => !values[k as 'username']);
      if (missing.length) {
        console.error(`Not created: missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${USAGE}`);
        return 2;
      }
      const result = await createUser(db, POLICIES[config.passwordPolicy], Date.now(), {
        username: values.username!, email: values.email!, password: values.password!, displayName: values.name,
        institutionCode: values['institution-code'], coordinator: values.coordinator ?? false, userId: values['user-id'],
      });
      if (!result.ok) {
        if (result.problem === 'password_policy') {
          const t = translator('en');
          const p = POLICIES[config.passwordPolicy];
          console.error(`Not created: the password breaks the "${p.name}" policy: ${result.violations.map((v) => t(v, { min: p.min, max: p.max })).join(' ')}`);
        } else console.error(`Not created: ${PROBLEMS[result.problem]}.`);
        return 1;
      }
      const u = result.user;
      await appendAudit(db, dialect, Date.now(), { event: 'user.created', outcome: 'ok', userId: u.id, actor: 'cli', detail: { accountType: u.account_type, status: u.status } });
      console.log(`Created ${u.account_type === 'coordinator' ? 'coordinator' : 'institution user'} "${u.username}"` +
        `${u.user_id ? ` with user ID "${u.user_id}" (used to log in and to reset the password)` : ''}, e-mail ${u.email}, status ${u.status}.` +
        (u.status === 'provisional' ? ' The address is a provisional placeholder: password reset will send no mail until it is replaced.' : ''));
      return 0;
    }
    if (cmd === 'audit' && sub === 'verify') {
      const { count, problems } = await verifyAudit(db);
      if (problems.length === 0) {
        console.log(`Audit trail intact: ${count} entries, each chained to the previous one.`);
        return 0;
      }
      for (const p of problems) {
        console.error(p.problem === 'altered' ? `Entry ${p.seq} was altered.` : p.problem === 'removed-before' ? `Entries before ${p.seq} were removed.` : `Entry ${p.seq} does not link to the entry before it.`);
      }
      console.error(`Audit trail NOT intact: ${problems.length} problem(s) in ${count} entries.`);
      return 1;
    }
    console.error(`Unknown command: ${argv.join(' ')}\n\n${USAGE}`);
    return 2;
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`Failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
