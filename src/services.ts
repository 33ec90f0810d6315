/** The dependencies every flow gets, wired once in app.ts (tests pass fakes for the clock and mail). */
import type { Config } from './config.ts';
import type { Db, Dialect } from './db/database.ts';
import type { Policy } from './accounts/password-policy.ts';
import type { CounterStore } from './security/counters.ts';
import type { SecretBox } from './security/secret-box.ts';
import { appendAudits, type AuditInput } from './security/audit.repository.ts';
import type { TopPageCache } from './content/top-page-cache.ts';
import type { MailWorker } from './mail/worker.ts';
import type { MailBranding } from './mail/templates/contact-block.ts';

export interface Services {
  config: Config;
  db: Db;
  dialect: Dialect;
  now: () => number;
  box: SecretBox;
  counters: CounterStore;
  policy: Policy;
  branding: MailBranding;
  mailWorker: MailWorker;
  /** The anonymous top page, rendered once per language (content/top-page-cache.ts). */
  topPage: TopPageCache;
  /** Appends to the audit trail, in `trx` when given (the same transaction as the change). */
  audit(input: AuditInput, trx?: Db): Promise<void>;
  /** Several entries with one INSERT, in this order. */
  auditMany(inputs: AuditInput[], trx?: Db): Promise<void>;
}

export function makeAudit(
  db: Db,
  now: () => number,
  observe?: (input: AuditInput) => void,
): Pick<Services, 'audit' | 'auditMany'> {
  const auditMany: Services['auditMany'] = async (inputs, trx) => {
    await appendAudits(trx ?? db, now(), inputs);
    if (observe) for (const input of inputs) observe(input);
  };
  return { auditMany, audit: (input, trx) => auditMany([input], trx) };
}
