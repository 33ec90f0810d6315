/**
 * Audit entries as the call center reads them out (issue 11 item 5): each (event, outcome) becomes a sentence in
 * the operator's language, with its times in JST, instead of `password_reset.link_opened` and raw JSON. The one
 * place that does so: the account page, the audit search, the CSV and the mail pages all use it.
 *
 * A sentence is the catalog key `audit.<event>.<outcome>.<variant>`, `audit.<event>.<outcome>` or `audit.<event>`,
 * the first that exists; the variant is the detail that changes the meaning (which limit, which lock, which CAPTCHA).
 * An event without a sentence falls back to a neutral one that names its code (a unit test lists the events the code
 * writes and fails when one has no sentence).
 */
import type { AuditEntry } from '../db/schema.ts';
import { ja } from '../web/i18n/ja.ts';
import type { MessageKey, Translate } from '../web/i18n/i18n.ts';
import { japanDateTime } from '../web/japan-time.ts';

/** "2026-12-01 19:05 (JST)": how a time inside a sentence is said. */
export function jstLabel(t: Translate, at: number): string {
  return t('audit.time', { time: japanDateTime(at) });
}

type Detail = Record<string, unknown>;

/** The detail's JSON, or nothing when it is missing or not an object (an entry written by hand, an older format). */
export function parseDetail(raw: string | null): Detail {
  if (!raw) return {};
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Detail) : {};
  } catch {
    return {};
  }
}

/** The detail field that picks a variant of a sentence, per event. */
const VARIANT_OF: Record<string, string> = {
  'password_reset.requested': 'limit',
  'password_reset.identified': 'captcha',
  login: 'held',
  'admin.login': 'held',
  'account.locked': 'source',
};

function hasKey(key: string): key is MessageKey {
  return Object.hasOwn(ja, key);
}

/** The catalog key of an entry's sentence, or undefined when there is none (the neutral fallback is used). */
export function sentenceKey(event: string, outcome: string, detail: Detail = {}): MessageKey | undefined {
  const field = VARIANT_OF[event];
  const variant = field && typeof detail[field] === 'string' ? (detail[field] as string) : undefined;
  const candidates = [
    variant ? `audit.${event}.${outcome}.${variant}` : '',
    `audit.${event}.${outcome}`,
    `audit.${event}`,
  ];
  return candidates.find((k) => k !== '' && hasKey(k)) as MessageKey | undefined;
}

const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** The values a sentence may name, read from the detail (an ISO time said in JST, a mail kind by its name). */
function paramsOf(t: Translate, e: Pick<AuditEntry, 'event' | 'outcome'>, d: Detail): Record<string, string> {
  const until = typeof d.until === 'string' ? Date.parse(d.until) : typeof d.until === 'number' ? d.until : NaN;
  return {
    until: Number.isNaN(until) ? '-' : jstLabel(t, until),
    ip: text(d.ip) || '-',
    kind: mailKindText(t, text(d.kind)),
    error: text(d.error) || '-',
    count: text(d.count) || '0',
    rows: text(d.rows) || '0',
    operator: text(d.operator) || '-',
    title: text(d.title),
    question: text(d.question),
    slug: text(d.slug),
    url: text(d.url),
    event: e.event,
    outcome: e.outcome,
  };
}

/** The sentence of one audit entry, with the operator's typed reason after it when the action had one. */
export function auditSentence(t: Translate, e: Pick<AuditEntry, 'event' | 'outcome' | 'detail'>): string {
  const d = parseDetail(e.detail);
  const key = sentenceKey(e.event, e.outcome, d);
  const params = paramsOf(t, e, d);
  const sentence = key ? t(key, params) : t('audit.unknown', params);
  const reason = text(d.reason);
  return reason ? `${sentence} ${t('audit.reason', { reason })}` : sentence;
}

/** Who did it: an operator by name, the command line, the mail worker, or someone on the portal's pages. */
export function actorText(t: Translate, e: Pick<AuditEntry, 'event' | 'actor'>): string {
  const a = e.actor;
  if (a?.startsWith('operator:')) return t('audit.actor.operator', { name: a.slice('operator:'.length) });
  if (a === 'cli' || a?.startsWith('cli:')) return t('audit.actor.cli', { name: a.slice(4) || 'cli' });
  if (a) return a;
  return e.event.startsWith('mail.') ? t('audit.actor.system') : t('audit.actor.visitor');
}

/** A mail's kind by its name (「パスワード変更用URL」); an unknown kind as its code. */
export function mailKindText(t: Translate, kind: string): string {
  const key = `admin.mailKind.${kind}`;
  return hasKey(key) ? t(key) : kind;
}

/** One step of a mail's delivery history (queued, sent, retry, failed) as words, with the SMTP error when there is one. */
export function mailEventText(t: Translate, ev: { at: number; event: string; detail: string | null }): string {
  const key = `audit.mailEvent.${ev.event}`;
  const what = hasKey(key) ? t(key) : ev.event;
  return `${jstLabel(t, ev.at)} ${what}${ev.detail ? `: ${ev.detail}` : ''}`;
}
