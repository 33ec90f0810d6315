/**
 * The account page's 「ログインの状態」 block (issue 11 item 5): whether the person can log in now and from where, in
 * one place. Failures are counted per (account, source) and account-wide (accounts/login-throttle.ts): the account-wide
 * lock holds only unfamiliar addresses, a source's lock only that address or browser. So the block never says "not
 * locked" while a source is locked, and a lock names the failures that caused it — both counters start again at 0
 * when they lock, so the count is read from the `account.locked` audit entry that the lock wrote.
 */
import type { AuditEntry, LoginThrottle, User } from '../db/schema.ts';
import { lockOriginOf, lockStateOf } from '../accounts/lock-state.ts';
import type { MessageKey, Translate } from '../web/i18n/i18n.ts';
import { jstLabel, parseDetail } from './audit-sentences.ts';

/** A throttle row as the page reads it. */
export type SourceRow = Pick<LoginThrottle, 'source' | 'failures' | 'locked_until'>;

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

/** A count from an audit detail, or the fallback when the entry is missing or has none. */
function countOf(entry: AuditEntry | undefined, fallback: number): number {
  const n = entry ? parseDetail(entry.detail).failures : undefined;
  return typeof n === 'number' && n > 0 ? n : fallback;
}

/** Who holds the lock, for 「ロックした人」: the role, and the operator's name when the audit trail has it. */
export function lockedByText(t: Translate, user: User, audit: AuditEntry[], now: number): string | undefined {
  const origin = lockOriginOf(user);
  if (!origin || lockStateOf(user, now) === 'none') return undefined;
  const role = t(`admin.lockOrigin.${origin}` as MessageKey);
  const name = origin === 'failures' ? undefined : actorName(lockEntry(user, audit)?.actor ?? null);
  return name ? t('admin.user.lockedByName', { role, name }) : role;
}

/** A throttle source as the operator says it: the address, or the browser (its cookie digest means nothing). */
function sourceName(t: Translate, source: string): string {
  return source.startsWith('ip:') ? source.slice(3) : t('admin.user.deviceSource');
}

const isLocked = (r: SourceRow, now: number) => r.locked_until !== null && r.locked_until > now;

/**
 * The failures that locked a source: the `account.locked`/`source` entry whose end is this lock's end (the lock
 * and its entry are written in one transaction with the same time). Without it (written by hand, older than the
 * entries the page reads) the threshold, since a source locks exactly when its count reaches it.
 */
function sourceLockFailures(r: SourceRow, audit: AuditEntry[], threshold: number): number {
  const entry = audit.find(
    (e) =>
      e.event === 'account.locked' &&
      e.outcome === 'source' &&
      Date.parse(String(parseDetail(e.detail).until)) === r.locked_until,
  );
  return countOf(entry, threshold);
}

/** The account-wide lock in a sentence, with the locked sources when the account itself is not locked. */
export function lockText(
  t: Translate,
  user: User,
  audit: AuditEntry[],
  locked: SourceRow[],
  now: number,
  o: { lockoutMinutes: number; lockoutThreshold: number },
): string {
  const state = lockStateOf(user, now);
  const entry = lockEntry(user, audit);
  if (state === 'temporary') {
    // Without its audit entry (written by hand, or older than the page reads), the start follows from the lock's length.
    const at = entry?.at ?? user.locked_until! - o.lockoutMinutes * 60_000;
    return t('admin.user.lockState.failures', {
      n: countOf(entry, o.lockoutThreshold),
      until: jstLabel(t, user.locked_until!),
      at: jstLabel(t, at),
    });
  }
  if (state === 'indefinite')
    return entry
      ? t('admin.user.lockState.operator', { at: jstLabel(t, entry.at) })
      : t('admin.user.lockState.operatorNoTime');
  const ended = user.status === 'locked' && user.locked_until !== null ? user.locked_until : null;
  if (!locked.length)
    return ended !== null
      ? t('admin.user.lockState.ended', { until: jstLabel(t, ended) })
      : t('admin.user.lockState.none');
  // Never a bare "not locked" while an address or the browser is: say which, and that other sources can log in.
  const head =
    ended !== null
      ? t('admin.user.lockState.accountEnded', { until: jstLabel(t, ended) })
      : t('admin.user.lockState.accountNone');
  const sources = locked
    .map((r) => t('admin.user.sourceUntil', { source: sourceName(t, r.source), until: jstLabel(t, r.locked_until!) }))
    .join('、');
  return `${head}${t('admin.user.lockState.sourcesLocked', { sources })}`;
}

/** The account-wide count; while the account is locked by failures it restarted at the lock and cannot grow. */
function failedCountText(t: Translate, user: User, now: number, threshold: number): string {
  return lockStateOf(user, now) === 'temporary'
    ? t('admin.user.failedCountLocked', { n: user.failed_logins })
    : t('admin.user.failedCount', { n: user.failed_logins, threshold });
}

/** The 「ログインの状態」 block: the account-wide lock, who set it, each locked source, the failure counts. */
export function LoginStatus({
  t,
  user,
  audit,
  counters,
  now,
  lockoutMinutes,
  lockoutThreshold,
}: {
  t: Translate;
  user: User;
  audit: AuditEntry[];
  counters: SourceRow[];
  now: number;
  lockoutMinutes: number;
  lockoutThreshold: number;
}) {
  const locked = counters.filter((r) => isLocked(r, now));
  const counting = counters.filter((r) => !isLocked(r, now) && r.failures > 0);
  const lockedBy = lockedByText(t, user, audit, now);
  const none = t('admin.user.noneListed');
  return (
    <>
      <h2>{t('admin.user.loginStatus')}</h2>
      <dl class="summary">
        <dt>{t('admin.user.lockState')}</dt>
        <dd>{lockText(t, user, audit, locked, now, { lockoutMinutes, lockoutThreshold })}</dd>
        {lockedBy ? (
          <>
            <dt>{t('admin.user.lockedBy')}</dt>
            <dd>{lockedBy}</dd>
          </>
        ) : null}
        <dt>{t('admin.user.lockedSources')}</dt>
        <dd>
          {locked.length ? (
            <ul>
              {locked.map((r) => (
                <li>
                  {t('admin.user.sourceFailureLocked', {
                    source: sourceName(t, r.source),
                    until: jstLabel(t, r.locked_until!),
                    n: sourceLockFailures(r, audit, lockoutThreshold),
                  })}
                </li>
              ))}
            </ul>
          ) : (
            none
          )}
        </dd>
        <dt>{t('admin.user.failedLogins')}</dt>
        <dd>{failedCountText(t, user, now, lockoutThreshold)}</dd>
        <dt>{t('admin.user.sourceFailures')}</dt>
        <dd>
          {counting.length ? (
            <ul>
              {counting.map((r) => (
                <li>
                  {t('admin.user.sourceFailure', {
                    source: sourceName(t, r.source),
                    n: r.failures,
                    threshold: lockoutThreshold,
                  })}
                </li>
              ))}
            </ul>
          ) : (
            none
          )}
        </dd>
      </dl>
    </>
  );
}
