/** env → config → buildApp → listen: the only file that listens. */
import './threadpool.ts'; // first: sizes libuv's thread pool before anything uses it
import { buildApp, loggerOptions } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { POLICIES } from './accounts/password-policy.ts';
import { createDemoAccountsIfEmpty } from './accounts/demo-accounts.ts';
import { openRuntime } from './runtime.ts';
import { installShutdown } from './shutdown.ts';
import { devMailEnabled } from './mail/dev-mail.routes.ts';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`Configuration error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}

// Allowed but unsafe outside tests (TRUST_PROXY=true in development): one line each, before anything else.
for (const w of config.warnings) console.error(`Warning: ${w}`);

const runtime = await openRuntime(config).catch((err: Error) => {
  console.error(`Cannot start: ${err.message}`);
  process.exit(1);
});

// Demo accounts help a first look; a production deployment starts empty (operators create accounts).
const demo = config.production
  ? []
  : await createDemoAccountsIfEmpty(runtime.db, POLICIES[config.passwordPolicy], Date.now());
const app = await buildApp({
  config,
  db: runtime.db,
  dialect: runtime.dialect,
  transport: runtime.transport,
  redis: runtime.redis,
  logger: loggerOptions(config.logLevel),
});

// Before listening: the request count it keeps must see every request.
installShutdown({ app, closeRuntime: () => runtime.close(), timeoutSeconds: config.shutdownTimeoutSeconds });

try {
  await app.listen({ port: config.port, host: config.host });
} catch (err) {
  console.error(`Cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
  process.exit(1);
}

const lines = [
  '',
  `  医療機関等向け総合ポータルサイト  ${config.baseUrl}/csm`,
  `  database: ${runtime.dialect === 'sqlite' ? config.databaseUrl : 'PostgreSQL'}   mail: ${runtime.transport.describe()}`,
];
if (demo.length) {
  lines.push('', '  Demo accounts (created now, shown only once):');
  for (const d of demo)
    lines.push(`    ${d.kind}`, `      ユーザー名/ID: ${d.login}   パスワード: ${d.password}   メール: ${d.email}`);
}
if (!config.smtpUrl) {
  lines.push('', `  Mails are written as .eml files to ${config.dataDir}/outbox/ (open one to follow a reset link).`);
  if (devMailEnabled(config))
    lines.push(`  Read them in the browser: ${config.baseUrl}/dev/mail (development only, from this machine)`);
}
console.log(lines.join('\n') + '\n');
