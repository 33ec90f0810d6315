/**
 * 登録確認待ち: registrations of a code held by a provisional account (issue 10 item 5). Support and admin see each
 * case with the registrant's details next to the provisional account's, call the institution's registered phone
 * back, tick the checklist and approve or reject with a typed reason; every step is audited with the operator.
 *   GET  /admin/registration-cases              pending cases (oldest first) and the recently decided ones
 *   GET  /admin/registration-cases/:id          one case
 *   POST /admin/registration-cases/:id/approve  checklist + reason → 303 (409 when no longer pending)
 *   POST /admin/registration-cases/:id/reject   reason → 303 (409 when no longer pending)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Operator, RegistrationCase } from '../db/schema.ts';
import type { Services } from '../services.ts';
import { findUserById } from '../accounts/users.repository.ts';
import {
  approveCase,
  CALLBACK_CHECKS,
  rejectCase,
  type CallbackCheck,
} from '../flows/registration/registration-cases.flow.ts';
import { countPendingCases, findCaseById, listCases } from '../flows/registration/registration-cases.repository.ts';
import { Csrf, ErrorSummary, Notice } from '../web/components.tsx';
import { HttpError } from '../web/errors.ts';
import { queryParam, readForm } from '../web/forms.ts';
import type { MessageKey, Translate } from '../web/i18n/i18n.ts';
import { sendPage } from '../web/render.ts';
import { adminContext, requireRole } from './admin.plugin.tsx';
import { AdminLayout, jstTime, MENU, ReasonField, type AdminContext } from './admin-layout.tsx';
import { actorText } from './audit-sentences.ts';
import { statusText } from './support.routes.tsx';

const CHECK_KEYS: Record<CallbackCheck, MessageKey> = {
  calledRegisteredPhone: 'admin.cases.check.called',
  institutionConfirmed: 'admin.cases.check.institution',
  contactConfirmed: 'admin.cases.check.contact',
};

const caseStatus = (t: Translate, c: RegistrationCase) => t(`admin.cases.status.${c.status}` as MessageKey);

interface CaseErrors {
  approve?: string;
  reject?: string;
  checks?: string;
}

/** The menu's counts for this operator: pending cases for the roles that work them (one COUNT per console request). */
export async function menuCounts(s: Services, operator: Operator): Promise<AdminContext['counts']> {
  const entry = MENU.find((m) => m.count === 'pendingCases');
  return entry?.roles.includes(operator.role) ? { pendingCases: await countPendingCases(s.db) } : {};
}

export async function registrationCaseRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const roles = requireRole('admin', 'support');

  app.get('/registration-cases', { preHandler: roles }, async (request, reply) => {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    const pending = await listCases(s.db, 'pending', 200);
    const decided = await listCases(s.db, 'decided', 50);
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.nav.cases'),
        children: (
          <>
            <p>{t('admin.cases.lead')}</p>
            <h2>{t('admin.cases.pending', { n: pending.length })}</h2>
            {pending.length ? (
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">{t('admin.cases.col.received')}</th>
                    <th scope="col">{t('admin.col.code')}</th>
                    <th scope="col">{t('admin.cases.col.institution')}</th>
                    <th scope="col">{t('admin.cases.col.contact')}</th>
                    <th scope="col">{t('admin.col.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {pending.map((c) => (
                    <tr>
                      <td>{jstTime(c.created_at)}</td>
                      <td>{c.institution_code}</td>
                      <td>{c.institution_name}</td>
                      <td>{c.contact_name}</td>
                      <td>
                        <a href={`/admin/registration-cases/${c.id}`}>{t('admin.cases.open')}</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p>{t('admin.cases.none')}</p>
            )}
            <h2>{t('admin.cases.decided')}</h2>
            {decided.length ? (
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">{t('admin.cases.col.decided')}</th>
                    <th scope="col">{t('admin.col.code')}</th>
                    <th scope="col">{t('admin.cases.col.institution')}</th>
                    <th scope="col">{t('admin.col.status')}</th>
                    <th scope="col">{t('admin.col.actor')}</th>
                  </tr>
                </thead>
                <tbody>
                  {decided.map((c) => (
                    <tr>
                      <td>
                        <a href={`/admin/registration-cases/${c.id}`}>{jstTime(c.decided_at)}</a>
                      </td>
                      <td>{c.institution_code}</td>
                      <td>{c.institution_name}</td>
                      <td>{caseStatus(t, c)}</td>
                      <td>
                        {c.decided_by ? actorText(t, { event: 'registration_case.decided', actor: c.decided_by }) : '-'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p>{t('admin.user.none')}</p>
            )}
          </>
        ),
      }),
    );
  });

  async function loadCase(id: string): Promise<RegistrationCase> {
    const c = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await findCaseById(s.db, id) : undefined;
    if (!c) throw new HttpError('NOT_FOUND');
    return c;
  }

  async function casePage(
    request: FastifyRequest,
    reply: FastifyReply,
    c: RegistrationCase,
    o: { notice?: string; problem?: string; errors?: CaseErrors; checked?: CallbackCheck[]; status?: number } = {},
  ) {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    const holder = await findUserById(s.db, c.holder_id);
    const created = c.new_user_id ? await findUserById(s.db, c.new_user_id) : undefined;
    const e = o.errors ?? {};
    const none = t('account.none');
    const rows: Array<[string, string, string]> = [
      [t('admin.col.code'), c.institution_code, holder?.institution_code ?? none],
      [t('admin.cases.col.institution'), c.institution_name, holder?.institution_name ?? none],
      [t('admin.cases.col.contact'), c.contact_name, holder?.display_name ?? none],
      [t('admin.cases.col.phone'), c.phone, holder?.phone ?? none],
      [t('admin.col.email'), c.email, holder?.email ?? none],
      [t('admin.col.status'), caseStatus(t, c), holder ? statusText(t, holder, s.now()) : none],
      [
        t('admin.cases.col.received'),
        `${jstTime(c.created_at)}（${c.ip}）`,
        holder ? jstTime(holder.created_at) : none,
      ],
    ];
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.cases.heading', { code: c.institution_code }),
        children: (
          <>
            {o.notice ? (
              <Notice kind="success">
                <p>{o.notice}</p>
              </Notice>
            ) : null}
            {o.problem ? (
              <Notice kind="error">
                <p>{o.problem}</p>
              </Notice>
            ) : null}
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t('admin.cases.col.item')}</th>
                  <th scope="col">{t('admin.cases.col.registrant')}</th>
                  <th scope="col">{t('admin.cases.col.holder')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(([k, a, b]) => (
                  <tr>
                    <th scope="row">{k}</th>
                    <td>{a}</td>
                    <td>{b}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {holder ? (
              <p>
                <a href={`/admin/users/${holder.id}`}>{t('admin.cases.holderPage', { login: holder.username })}</a>
              </p>
            ) : null}
            {c.status !== 'pending' ? (
              <dl class="summary">
                <dt>{t('admin.cases.col.decided')}</dt>
                <dd>{jstTime(c.decided_at)}</dd>
                <dt>{t('admin.col.actor')}</dt>
                <dd>
                  {c.decided_by ? actorText(t, { event: 'registration_case.decided', actor: c.decided_by }) : '-'}
                </dd>
                <dt>{t('admin.reason')}</dt>
                <dd>{c.decision_reason ?? '-'}</dd>
                {created ? (
                  <>
                    <dt>{t('admin.cases.newAccount')}</dt>
                    <dd>
                      <a href={`/admin/users/${created.id}`}>{created.username}</a>
                    </dd>
                  </>
                ) : null}
              </dl>
            ) : (
              <>
                <Notice kind="info">
                  <p>
                    {holder?.phone
                      ? t('admin.cases.callBack', { phone: holder.phone })
                      : t('admin.cases.callBackNoPhone')}
                  </p>
                </Notice>
                <form method="post" action={`/admin/registration-cases/${c.id}/approve`} class="action-box" novalidate>
                  <Csrf token={ctx.csrfToken} />
                  <h3>{t('admin.cases.approve')}</h3>
                  <ErrorSummary
                    t={t}
                    show={Boolean(e.checks || e.approve)}
                    items={[
                      ...(e.checks ? [{ field: `check-${CALLBACK_CHECKS[0]}`, message: e.checks }] : []),
                      ...(e.approve ? [{ field: 'reason-approve', message: e.approve }] : []),
                    ]}
                  />
                  <p class="muted">{t('admin.cases.approveHelp')}</p>
                  <fieldset
                    class="field"
                    aria-describedby={`checks-help${e.checks ? ' checks-error' : ''}`}
                    aria-invalid={e.checks ? 'true' : undefined}
                  >
                    <legend class="field__label">
                      {t('admin.cases.checklist')}
                      <span class="field__req" aria-hidden="true">
                        *
                      </span>
                    </legend>
                    <p id="checks-help" class="field__help">
                      {t('admin.cases.checklistHelp')}
                    </p>
                    {CALLBACK_CHECKS.map((k) => (
                      <label class="choice">
                        <input type="checkbox" id={`check-${k}`} name={k} value="1" checked={o.checked?.includes(k)} />{' '}
                        {t(CHECK_KEYS[k])}
                      </label>
                    ))}
                    {e.checks ? (
                      <div id="checks-error" class="field__error">
                        <p>{e.checks}</p>
                      </div>
                    ) : null}
                  </fieldset>
                  <ReasonField t={t} id="reason-approve" error={e.approve} />
                  <button type="submit" class="button button--primary">
                    {t('admin.cases.approve')}
                  </button>
                </form>
                <form method="post" action={`/admin/registration-cases/${c.id}/reject`} class="action-box" novalidate>
                  <Csrf token={ctx.csrfToken} />
                  <h3>{t('admin.cases.reject')}</h3>
                  <ErrorSummary
                    t={t}
                    show={Boolean(e.reject)}
                    items={e.reject ? [{ field: 'reason-reject', message: e.reject }] : []}
                  />
                  <p class="muted">{t('admin.cases.rejectHelp')}</p>
                  <ReasonField t={t} id="reason-reject" error={e.reject} />
                  <button type="submit" class="button button--secondary">
                    {t('admin.cases.reject')}
                  </button>
                </form>
              </>
            )}
            <p>
              <a href="/admin/registration-cases">{t('admin.cases.back')}</a>
            </p>
          </>
        ),
      }),
      o.status ?? 200,
    );
  }

  app.get<{ Params: { id: string } }>('/registration-cases/:id', { preHandler: roles }, async (request, reply) => {
    const c = await loadCase(request.params.id);
    await s.audit({
      event: 'support.case_viewed',
      outcome: 'ok',
      userId: c.holder_id,
      actor: `operator:${request.operator!.username}`,
      ip: request.ip,
      userAgent: request.meta.userAgent,
      detail: { caseId: c.id },
    });
    const done = queryParam(request, 'done');
    const notice =
      done === 'approve'
        ? request.t('admin.cases.approved')
        : done === 'reject'
          ? request.t('admin.cases.rejected')
          : undefined;
    return casePage(request, reply, c, { notice });
  });

  app.post<{ Params: { id: string; action: string } }>(
    '/registration-cases/:id/:action',
    { preHandler: [app.csrfProtection, roles] },
    async (request, reply) => {
      const action =
        request.params.action === 'approve' ? 'approve' : request.params.action === 'reject' ? 'reject' : undefined;
      if (!action) throw new HttpError('NOT_FOUND');
      const c = await loadCase(request.params.id);
      const { t } = request;
      const { values, tooLong } = readForm(request, {
        reason: 500,
        calledRegisteredPhone: 10,
        institutionConfirmed: 10,
        contactConfirmed: 10,
      });
      const checked = CALLBACK_CHECKS.filter((k) => values[k] === '1');
      // A case decided meanwhile (another operator, a second click, a stale page) changes nothing: 409.
      if (c.status !== 'pending')
        return casePage(request, reply, c, { problem: t('admin.cases.notPending'), status: 409 });
      const reason = values.reason.trim();
      const errors: CaseErrors = {};
      if (!reason) errors[action] = t('admin.reasonRequired');
      else if (tooLong.includes('reason')) errors[action] = t('field.tooLong', { max: 500 });
      if (action === 'approve' && checked.length !== CALLBACK_CHECKS.length)
        errors.checks = t('admin.cases.checksRequired');
      if (Object.keys(errors).length) return casePage(request, reply, c, { errors, checked, status: 400 });
      const m = { actor: `operator:${request.operator!.username}`, ip: request.ip, userAgent: request.meta.userAgent };
      const result =
        action === 'approve' ? await approveCase(s, c.id, reason, checked, m) : await rejectCase(s, c.id, reason, m);
      if (!result.ok) {
        if (result.problem === 'not_found') throw new HttpError('NOT_FOUND');
        const fresh = (await findCaseById(s.db, c.id))!;
        return casePage(request, reply, fresh, {
          problem: t(result.problem === 'holder_changed' ? 'admin.cases.holderChanged' : 'admin.cases.notPending'),
          status: 409,
        });
      }
      return reply.redirect(`/admin/registration-cases/${c.id}?done=${action}`, 303);
    },
  );
}
