/** Search and CSV export of the audit trail (A3), by account, operator, event and time. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditEntry } from '../db/schema.ts';
import type { Services } from '../services.ts';
import { normalizeIdentifier } from '../accounts/identity.ts';
import { findUserByAnyName } from '../accounts/users.repository.ts';
import { searchAudit, type AuditFilter } from '../security/audit.repository.ts';
import { Field, Notice } from '../web/components.tsx';
import { queryParam } from '../web/forms.ts';
import { sendPage } from '../web/render.ts';
import { parseJapanDate } from '../web/japan-time.ts';
import { adminContext, requireRole } from './admin.plugin.tsx';
import { AdminLayout, jstTime } from './admin-layout.tsx';

/** A CSV cell: quoted, and a leading = + - @ neutralised so that spreadsheets do not run it as a formula. */
function cell(v: string | number | null): string {
  let s = v === null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

async function filterOf(s: Services, request: FastifyRequest): Promise<{ filter: AuditFilter; values: Record<string, string>; error?: 'date' | 'account' }> {
  const values = {
    account: (queryParam(request, 'account') ?? '').trim().slice(0, 100),
    operator: (queryParam(request, 'operator') ?? '').trim().slice(0, 100),
    event: (queryParam(request, 'event') ?? '').trim().slice(0, 100),
    from: (queryParam(request, 'from') ?? '').trim(),
    to: (queryParam(request, 'to') ?? '').trim(),
  };
  const from = parseJapanDate(values.from);
  const to = parseJapanDate(values.to);
  const filter: AuditFilter = { limit: 500, actor: values.operator || undefined, eventPrefix: values.event || undefined };
  if (from === 'bad' || to === 'bad') return { filter, values, error: 'date' };
  filter.from = from;
  filter.to = to === undefined ? undefined : to + 86_400_000;
  if (values.account) {
    const user = await findUserByAnyName(s.db, normalizeIdentifier(values.account));
    if (!user) return { filter, values, error: 'account' };
    filter.userId = user.id;
  }
  return { filter, values };
}

export async function auditRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const guard = { preHandler: requireRole('admin', 'support') };

  app.get('/audit', guard, async (request, reply) => {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    const { filter, values, error } = await filterOf(s, request);
    const rows: AuditEntry[] = error ? [] : await searchAudit(s.db, filter);
    const qs = new URLSearchParams(values).toString();
    return sendPage(reply, AdminLayout({ ctx, title: t('admin.audit.heading'), children: (
      <>
        <form method="get" action="/admin/audit" role="search">
          <div class="filters">
            <Field t={t} id="account" name="account" label={t('admin.audit.account')} value={values.account} maxLength={100} />
            <Field t={t} id="operator" name="operator" label={t('admin.audit.operator')} value={values.operator} maxLength={100} />
            <Field t={t} id="event" name="event" label={t('admin.audit.event')} value={values.event} maxLength={100} />
            <Field t={t} id="from" name="from" label={t('admin.audit.from')} help={t('admin.audit.dateHelp')} value={values.from} maxLength={10} error={error === 'date' ? t('admin.audit.badDate') : undefined} />
            <Field t={t} id="to" name="to" label={t('admin.audit.to')} help={t('admin.audit.dateHelp')} value={values.to} maxLength={10} />
          </div>
          <div class="actions">
            <button type="submit" class="button button--primary">{t('admin.audit.submit')}</button>
            <a href={`/admin/audit.csv?${qs}`}>{t('admin.audit.export')}</a>
          </div>
        </form>
        {error === 'account' ? <Notice kind="error"><p>{t('admin.audit.noAccount')}</p></Notice> : null}
        <p role="status">{t('admin.audit.count', { n: rows.length })}</p>
        <table class="table">
          <thead><tr><th scope="col">#</th><th scope="col">{t('admin.col.when')}</th><th scope="col">{t('admin.col.event')}</th><th scope="col">{t('admin.col.outcome')}</th>
            <th scope="col">{t('admin.col.actor')}</th><th scope="col">{t('admin.col.ip')}</th><th scope="col">{t('admin.col.detail')}</th></tr></thead>
          <tbody>{rows.map((e) => (
            <tr><td>{e.seq}</td><td>{jstTime(e.at)}</td><td>{e.event}</td><td>{e.outcome}</td><td>{e.actor ?? (e.identifier ? `(${e.identifier})` : '-')}</td><td>{e.ip ?? '-'}</td>
              <td>{e.user_id ? <a href={`/admin/users/${e.user_id}`}>{e.user_id}</a> : null} {e.detail ?? ''}</td></tr>
          ))}</tbody>
        </table>
      </>
    ) }), error ? 400 : 200);
  });

  app.get('/audit.csv', guard, async (request, reply) => {
    const { filter, error } = await filterOf(s, request);
    const rows = error ? [] : await searchAudit(s.db, { ...filter, limit: 100_000 });
    await s.audit({ event: 'audit.exported', outcome: 'ok', actor: `operator:${request.operator!.username}`, ip: request.ip, userAgent: request.meta.userAgent, detail: { rows: rows.length, filter: { ...filter, limit: undefined } } });
    const header = ['seq', 'at_utc', 'event', 'outcome', 'user_id', 'identifier', 'actor', 'ip', 'user_agent', 'detail', 'hash'];
    const lines = [header.join(','), ...rows.map((e) => [e.seq, new Date(e.at).toISOString(), e.event, e.outcome, e.user_id, e.identifier, e.actor, e.ip, e.user_agent, e.detail, e.hash].map(cell).join(','))];
    const stamp = new Date(s.now()).toISOString().slice(0, 10);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${stamp}.csv"`)
      .status(error ? 400 : 200)
      .send('\uFEFF' + lines.join('\r\n') + '\r\n');
  });
}
