/**
 * The parts of the call center's account page that read the account out in words (issue 11 item 5): audit entries
 * as sentences and the mails' delivery history. The login status block (locks and failure counts) is login-status.tsx.
 */
import type { AuditEntry, OutboxMail } from '../db/schema.ts';
import type { MessageKey, Translate } from '../web/i18n/i18n.ts';
import { actorText, auditSentence, mailEventText, mailKindText } from './audit-sentences.ts';
import { jstTime } from './admin-layout.tsx';

/** Audit entries as a table the operator can read aloud: when (JST), what happened, who, from where. */
export function AuditTable({ t, rows, typed }: { t: Translate; rows: AuditEntry[]; typed?: boolean }) {
  if (!rows.length) return <p>{t('admin.user.none')}</p>;
  return (
    <table class="table">
      <thead>
        <tr>
          <th scope="col">{t('admin.col.when')}</th>
          <th scope="col">{t('admin.col.what')}</th>
          <th scope="col">{typed ? t('admin.col.typed') : t('admin.col.actor')}</th>
          <th scope="col">{t('admin.col.ip')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((e) => (
          <tr>
            <td>{jstTime(e.at)}</td>
            <td>{auditSentence(t, e)}</td>
            <td>{typed ? (e.identifier ?? '-') : actorText(t, e)}</td>
            <td>{e.ip ?? '-'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The account's mails: kind by name, address, status, attempts, and the delivery history in words. */
export function MailTable({
  t,
  mails,
  events,
}: {
  t: Translate;
  mails: OutboxMail[];
  events: Array<{ outbox_id: string; at: number; event: string; detail: string | null }>;
}) {
  if (!mails.length) return <p>{t('admin.user.none')}</p>;
  return (
    <table class="table">
      <thead>
        <tr>
          <th scope="col">{t('admin.col.when')}</th>
          <th scope="col">{t('admin.col.kind')}</th>
          <th scope="col">{t('admin.col.to')}</th>
          <th scope="col">{t('admin.col.status')}</th>
          <th scope="col">{t('admin.col.attempts')}</th>
          <th scope="col">{t('admin.col.history')}</th>
        </tr>
      </thead>
      <tbody>
        {mails.map((m) => (
          <tr>
            <td>{jstTime(m.created_at)}</td>
            <td>{mailKindText(t, m.kind)}</td>
            <td>{m.to_addr}</td>
            <td>{t(`admin.mailStatus.${m.status}` as MessageKey)}</td>
            <td>{m.attempts}</td>
            <td>
              <ul>
                {events
                  .filter((e) => e.outbox_id === m.id)
                  .map((e) => (
                    <li>{mailEventText(t, e)}</li>
                  ))}
              </ul>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
