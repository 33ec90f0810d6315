/** The mail dashboard: queue depth, failures, the oldest undelivered mail, and "retry now". */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { listUndelivered, outboxStats, retryNow } from '../mail/outbox.repository.ts';
import { Csrf, Notice } from '../web/components.tsx';
import { HttpError } from '../web/errors.ts';
import { queryParam } from '../web/forms.ts';
import type { MessageKey } from '../web/i18n/i18n.ts';
import { sendPage } from '../web/render.ts';
import { adminContext, requireRole } from './admin.plugin.tsx';
import { AdminLayout, jstTime } from './admin-layout.tsx';
import { mailKindText } from './audit-sentences.ts';

export async function mailRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.get('/mail', { preHandler: requireRole('admin', 'support') }, async (request, reply) => {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    const stats = await outboxStats(s.db, s.now());
    const mails = await listUndelivered(s.db, 200);
    const retried = queryParam(request, 'retried');
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.mail.heading'),
        children: (
          <>
            {retried && /^\d+$/.test(retried) ? (
              <Notice kind="success">
                <p>{t('admin.mail.retried', { n: retried })}</p>
              </Notice>
            ) : null}
            <ul class="stats">
              <li>
                {t('admin.mail.depth')}
                <strong>{stats.queued}</strong>
              </li>
              <li>
                {t('admin.mail.failed')}
                <strong>{stats.failed}</strong>
              </li>
              <li>
                {t('admin.mail.sent24h')}
                <strong>{stats.sentLast24h}</strong>
              </li>
              <li>
                {t('admin.mail.oldest')}
                <strong>
                  {stats.oldestUndeliveredAt === null ? t('admin.mail.oldestNone') : jstTime(stats.oldestUndeliveredAt)}
                </strong>
              </li>
            </ul>
            <form method="post" action="/admin/mail/retry">
              <Csrf token={ctx.csrfToken} />
              <button type="submit" class="button button--primary">
                {t('admin.mail.retryAll')}
              </button>
            </form>
            <h2>{t('admin.mail.list')}</h2>
            {mails.length ? (
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">{t('admin.col.when')}</th>
                    <th scope="col">{t('admin.col.kind')}</th>
                    <th scope="col">{t('admin.col.to')}</th>
                    <th scope="col">{t('admin.col.status')}</th>
                    <th scope="col">{t('admin.col.attempts')}</th>
                    <th scope="col">{t('admin.col.lastError')}</th>
                    <th scope="col">{t('admin.col.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {mails.map((m) => (
                    <tr>
                      <td>{jstTime(m.created_at)}</td>
                      <td>{mailKindText(t, m.kind)}</td>
                      <td>{m.user_id ? <a href={`/admin/users/${m.user_id}`}>{m.to_addr}</a> : m.to_addr}</td>
                      <td>{t(`admin.mailStatus.${m.status}` as MessageKey)}</td>
                      <td>{m.attempts}</td>
                      <td>{m.last_error ?? '-'}</td>
                      <td>
                        <form method="post" action={`/admin/mail/${m.id}/retry`} class="inline-form">
                          <Csrf token={ctx.csrfToken} />
                          <button type="submit" class="button button--secondary">
                            {t('admin.mail.retryOne')}
                          </button>
                        </form>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p>{t('admin.mail.empty')}</p>
            )}
          </>
        ),
      }),
    );
  });

  async function retry(
    id: string | undefined,
    request: { operator: { username: string } | null; ip: string; meta: { userAgent: string } },
  ): Promise<number> {
    const n = await retryNow(s.db, s.now(), id);
    await s.audit({
      event: 'support.mail_retry',
      outcome: 'ok',
      actor: `operator:${request.operator!.username}`,
      ip: request.ip,
      userAgent: request.meta.userAgent,
      detail: { mailId: id ?? 'all', count: n },
    });
    s.mailWorker.kick();
    return n;
  }

  app.post(
    '/mail/retry',
    { preHandler: [app.csrfProtection, requireRole('admin', 'support')] },
    async (request, reply) => {
      const n = await retry(undefined, request);
      return reply.redirect(`/admin/mail?retried=${n}`, 303);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/mail/:id/retry',
    { preHandler: [app.csrfProtection, requireRole('admin', 'support')] },
    async (request, reply) => {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(request.params.id)) throw new HttpError('NOT_FOUND');
      const n = await retry(request.params.id, request);
      return reply.redirect(`/admin/mail?retried=${n}`, 303);
    },
  );
}
