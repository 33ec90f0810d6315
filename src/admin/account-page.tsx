/**
 * The parts of the call center's account page that read the account out in words (issue 11 item 5): audit entries
 * as sentences, the lock (by failed logins until when, or by which operator since when), the failed-login counts as
 * the per-source throttle keeps them (accounts/login-throttle.ts), and the mails' delivery history.
 */
import type { AuditEntry, LoginThrottle, OutboxMail, User } from '../db/schema.ts';
import { lockOriginOf, lockStateOf } from '../accounts/lock-state.ts';
import type { MessageKey, Translate } from '../web/i18n/i18n.ts';
import { actorText, auditSentence, jstLabel, mailEventText, mailKindText } from './audit-sentences.ts';
import { jstTime } from './admin-layout.tsx';

/** Audit entries as a table the operator can read aloud: when (JST), what happened, who, from where. */
export function AuditTable({ t, rows, typed }: { t: Translate; rows: AuditEntry[]; typed?: boolean }) {
  if (!rows.length) return <p>{t('admin.user.none')}</p>;
  return (
    <table class="table">
      <thead><tr><th scope="col">{t('admin.col.when')}</th><th scope="col">{t('admin.col.what')}</th>
        <th scope="col">{typed ? t('admin.col.typed') : t('admin.col.actor')}</th><th scope="col">{t('admin.col.ip')}</th></tr></thead>
      <tbody>{rows.map((e) => (
        <tr><td>{jstTime(e.at)}</td><td>{auditSentence(t, e)}</td><td>{typed ? (e.identifier ?? '-') : actorText(t, e)}</td><td>{e.ip ?? '-'}</td></tr>
      ))}</tbody>
    </table>
  );
}

/** The name part of an actor ('operator:sato' → 'sato', 'cli:root' → 'root'). */
function actorName(actor: string | null): string | undefined {
  if (!actor) return undefined;
  const i = actor.indexOf(':');
  return i < 0 ? actor : actor.slice(i + 1);
}

/** The newest entry that set the account's current lock (entries newest first). */
function lockEntry(user: User, audit: AuditEntry[]): AuditEntry | undefined {
  const origin = lockOriginOf(user);
  if (origin === 'failures') return audit.find((e) => e.event === 'account.locked' && e.outcome === 'temporary');
  return audit.find((e) => e.event === (origin === 'cli' ? 'user.locked' : 'support.locked'));
}

/** Who holds the lock, for 「ロックした人」: the role, and the operator's name when the audit trail has it. */
export function lockedByText(t: Translate, user: User, audit: AuditEntry[], now: number): string | undefined {
  const origin = lockOriginOf(user);
  if (!origin || lockStateOf(user, now) === 'none') return undefined;
  const role = t(`admin.lockOrigin.${origin}` as MessageKey);
  const name = origin === 'failures' ? undefined : actorName(lockEntry(user, audit)?.actor ?? null);
  return name ? t('admin.user.lockedByName', { role, name }) : role;
}

/** The lock in a sentence: until when (failed logins) or since when (an operator); an ended lock says so. */
export function lockText(t: Translate, user: User, audit: AuditEntry[], now: number, lockoutMinutes: number): string {
  const state = lockStateOf(user, now);
  if (state === 'none') {
    return user.status === 'locked' && user.locked_until !== null ? t('admin.user.lockState.ended', { until: jstLabel(t, user.locked_until) }) : t('admin.user.lockState.none');
  }
  const entry = lockEntry(user, audit);
  if (state === 'temporary') {
    // Without its audit entry (written by hand, or older than the page reads), the start follows from the lock's length.
    const at = entry?.at ?? user.locked_until! - lockoutMinutes * 60_000;
    return t('admin.user.lockState.failures', { until: jstLabel(t, user.locked_until!), at: jstLabel(t, at) });
  }
  return entry ? t('admin.user.lockState.operator', { at: jstLabel(t, entry.at) }) : t('admin.user.lockState.operatorNoTime');
}

/** A throttle source as the operator says it: the address, or "the user's device" (its cookie digest means nothing). */
function sourceName(t: Translate, source: string): string {
  return source.startsWith('ip:') ? source.slice(3) : t('admin.user.deviceSource');
}

/** Each address or device with failures counting or a lock in force; '-' when there is none. */
export function SourceCounters({ t, rows, now }: { t: Translate; rows: Array<Pick<LoginThrottle, 'source' | 'failures' | 'locked_until'>>; now: number }) {
  if (!rows.length) return <>-</>;
  return (
    <ul>{rows.map((r) => (
      <li>{r.locked_until !== null && r.locked_until > now
        ? t('admin.user.sourceFailureLocked', { source: sourceName(t, r.source), until: jstLabel(t, r.locked_until) })
        : t('admin.user.sourceFailure', { source: sourceName(t, r.source), n: r.failures })}</li>
    ))}</ul>
  );
}

/** The account's mails: kind by name, address, status, attempts, and the delivery history in words. */
export function MailTable({ t, mails, events }: { t: Translate; mails: OutboxMail[]; events: Array<{ outbox_id: string; at: number; event: string; detail: string | null }> }) {
  if (!mails.length) return <p>{t('admin.user.none')}</p>;
  return (
    <table class="table">
      <thead><tr><th scope="col">{t('admin.col.when')}</th><th scope="col">{t('admin.col.kind')}</th><th scope="col">{t('admin.col.to')}</th>
        <th scope="col">{t('admin.col.status')}</th><th scope="col">{t('admin.col.attempts')}</th><th scope="col">{t('admin.col.history')}</th></tr></thead>
      <tbody>{mails.map((m) => (
        <tr><td>{jstTime(m.created_at)}</td><td>{mailKindText(t, m.kind)}</td><td>{m.to_addr}</td><td>{t(`admin.mailStatus.${m.status}` as MessageKey)}</td><td>{m.attempts}</td>
          <td><ul>{events.filter((e) => e.outbox_id === m.id).map((e) => <li>{mailEventText(t, e)}</li>)}</ul></td></tr>
      ))}</tbody>
    </table>
  );
}
