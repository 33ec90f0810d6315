/** Search and CSV export of the audit trail (A3), by account, operator, event and time. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditEntry } from '../db/schema.ts';
import type { Services } from '../services.ts';
import { normalizeIdentifier } from '../accounts/identity.ts';
import { findAccountNames, findUserByAnyName } from '../accounts/users.repository.ts';
import { searchAudit, STAGE_ONE_EVENTS, type AuditFilter } from '../security/audit.repository.ts';
import { ErrorSummary, Field } from '../web/components.tsx';
import { queryParam } from '../web/forms.ts';
import { sendPage } from '../web/render.ts';
import type { MessageKey, Translate } from '../web/i18n/i18n.ts';
import { japanIsoOffset, parseJapanDate } from '../web/japan-time.ts';
import { adminContext, requireRole } from './admin.plugin.tsx';
import { AdminLayout, jstTime } from './admin-layout.tsx';
import { actorText, auditSentence } from './audit-sentences.ts';

type Names = Awaited<ReturnType<typeof findAccountNames>>;

/** The account of an entry as the call center names it: username and user ID, or what was typed when none matched. */
function accountText(t: Translate, e: AuditEntry, names: Names): string {
  const u = e.user_id ? names.get(e.user_id) : undefined;
  if (u) return u.user_id ? `${u.username} / ${u.user_id}` : u.username;
  return e.identifier ? t('admin.audit.typed', { identifier: e.identifier }) : '-';
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A detail value with every UTC time (ISO, as the code writes them) said in JST with its offset, like the at_jst column. */
function inJapanTime(v: unknown): unknown {
  if (typeof v === 'string' && ISO_UTC.test(v)) return japanIsoOffset(Date.parse(v));
  if (Array.isArray(v)) return v.map(inJapanTime);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, inJapanTime(x)]));
  return v;
}

/** The detail column: the stored JSON with its times in JST; what is not JSON stays as it was stored. */
function csvDetail(raw: string | null): string | null {
  if (raw === null) return null;
  try {
    return JSON.stringify(inJapanTime(JSON.parse(raw)));
  } catch {
    return raw;
  }
}

/** A CSV cell: quoted, and a leading = + - @ neutralised so that spreadsheets do not run it as a formula. */
function cell(v: string | number | null): string {
  let s = v === null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

type FilterErrors = Partial<Record<'account' | 'from' | 'to', MessageKey>>;

async function filterOf(
  s: Services,
  request: FastifyRequest,
): Promise<{ filter: AuditFilter; values: Record<string, string>; errors: FilterErrors }> {
  const values = {
    account: (queryParam(request, 'account') ?? '').trim().slice(0, 100),
    operator: (queryParam(request, 'operator') ?? '').trim().slice(0, 100),
    event: (queryParam(request, 'event') ?? '').trim().slice(0, 100),
    from: (queryParam(request, 'from') ?? '').trim(),
    to: (queryParam(request, 'to') ?? '').trim(),
  };
  const from = parseJapanDate(values.from);
  const to = parseJapanDate(values.to);
  const filter: AuditFilter = {
    limit: 500,
    actor: values.operator || undefined,
    eventPrefix: values.event || undefined,
  };
  const errors: FilterErrors = {};
  if (from === 'bad') errors.from = 'admin.audit.badDate';
  if (to === 'bad') errors.to = 'admin.audit.badDate';
  if (from !== 'bad') filter.from = from;
  if (to !== 'bad') filter.to = to === undefined ? undefined : to + 86_400_000;
  if (values.account) {
    const user = await findUserByAnyName(s.db, normalizeIdentifier(values.account));
    if (!user) errors.account = 'admin.audit.noAccount';
    else {
      filter.userId = user.id;
      // Stage ① records only the name typed: find what was typed with this account's names, as its page does.
      const identifiers = [
        ...new Set([user.username, user.user_id].filter((n): n is string => Boolean(n)).map(normalizeIdentifier)),
      ];
      filter.typed = { identifiers, events: STAGE_ONE_EVENTS };
    }
  }
  return { filter, values, errors };
}

export async function auditRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const guard = { preHandler: requireRole('admin', 'support') };

  app.get('/audit', guard, async (request, reply) => {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    const { filter, values, errors } = await filterOf(s, request);
    const error = Object.keys(errors).length > 0;
    const msg = (k: keyof FilterErrors) => (errors[k] ? t(errors[k]) : undefined);
    const rows: AuditEntry[] = error ? [] : await searchAudit(s.db, filter);
    const names = await findAccountNames(
      s.db,
      rows.flatMap((e) => (e.user_id ? [e.user_id] : [])),
    );
    const qs = new URLSearchParams(values).toString();
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.audit.heading'),
        children: (
          <>
            <form method="get" action="/admin/audit" role="search">
              <ErrorSummary
                t={t}
                show={error}
                items={(['account', 'from', 'to'] as const).flatMap((k) =>
                  errors[k] ? [{ field: k, message: t(errors[k]) }] : [],
                )}
              />
              <div class="filters">
                <Field
                  t={t}
                  id="account"
                  name="account"
                  label={t('admin.audit.account')}
                  value={values.account}
                  maxLength={100}
                  error={msg('account')}
                />
                <Field
                  t={t}
                  id="operator"
                  name="operator"
                  label={t('admin.audit.operator')}
                  value={values.operator}
                  maxLength={100}
                />
                <Field
                  t={t}
                  id="event"
                  name="event"
                  label={t('admin.audit.event')}
                  value={values.event}
                  maxLength={100}
                />
                <Field
                  t={t}
                  id="from"
                  name="from"
                  label={t('admin.audit.from')}
                  help={t('admin.audit.dateHelp')}
                  value={values.from}
                  maxLength={10}
                  error={msg('from')}
                />
                <Field
                  t={t}
                  id="to"
                  name="to"
                  label={t('admin.audit.to')}
                  help={t('admin.audit.dateHelp')}
                  value={values.to}
                  maxLength={10}
                  error={msg('to')}
                />
              </div>
              <div class="actions">
                <button type="submit" class="button button--primary">
                  {t('admin.audit.submit')}
                </button>
                <a href={`/admin/audit.csv?${qs}`}>{t('admin.audit.export')}</a>
              </div>
            </form>
            <p role="status">{t('admin.audit.count', { n: rows.length })}</p>
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">{t('admin.col.when')}</th>
                  <th scope="col">{t('admin.col.what')}</th>
                  <th scope="col">{t('admin.col.account')}</th>
                  <th scope="col">{t('admin.col.actor')}</th>
                  <th scope="col">{t('admin.col.ip')}</th>
                  <th scope="col">{t('admin.col.eventCode')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => (
                  <tr>
                    <td>{e.seq}</td>
                    <td>{jstTime(e.at)}</td>
                    <td>{auditSentence(t, e)}</td>
                    <td>
                      {e.user_id && names.has(e.user_id) ? (
                        <a href={`/admin/users/${e.user_id}`}>{accountText(t, e, names)}</a>
                      ) : (
                        accountText(t, e, names)
                      )}
                    </td>
                    <td>{actorText(t, e)}</td>
                    <td>{e.ip ?? '-'}</td>
                    <td>
                      <code>{e.event}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ),
      }),
      error ? 400 : 200,
    );
  });

  app.get('/audit.csv', guard, async (request, reply) => {
    const { filter, errors } = await filterOf(s, request);
    const error = Object.keys(errors).length > 0;
    const rows = error ? [] : await searchAudit(s.db, { ...filter, limit: 100_000 });
    await s.audit({
      event: 'audit.exported',
      outcome: 'ok',
      actor: `operator:${request.operator!.username}`,
      ip: request.ip,
      userAgent: request.meta.userAgent,
      detail: { rows: rows.length, filter: { ...filter, limit: undefined } },
    });
    const names = await findAccountNames(
      s.db,
      rows.flatMap((e) => (e.user_id ? [e.user_id] : [])),
    );
    // Times in JST with the offset; the account by its username and user ID (the internal id means nothing to a reader).
    const header = [
      'seq',
      'at_jst',
      'event',
      'outcome',
      'description',
      'account_username',
      'account_user_id',
      'identifier',
      'actor',
      'ip',
      'user_agent',
      'detail',
      'hash',
    ];
    const lines = [
      header.join(','),
      ...rows.map((e) => {
        const u = e.user_id ? names.get(e.user_id) : undefined;
        return [
          e.seq,
          japanIsoOffset(e.at),
          e.event,
          e.outcome,
          auditSentence(request.t, e),
          u?.username ?? null,
          u?.user_id ?? null,
          e.identifier,
          e.actor,
          e.ip,
          e.user_agent,
          csvDetail(e.detail),
          e.hash,
        ]
          .map(cell)
          .join(',');
      }),
    ];
    const stamp = new Date(s.now()).toISOString().slice(0, 10);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${stamp}.csv"`)
      .status(error ? 400 : 200)
      .send('\uFEFF' + lines.join('\r\n') + '\r\n');
  });
}
