/**
 * The call center's lookup: find an account, see why a reset mail did or did not go out and what became of every
 * mail, and act (unlock, send a reset link, mark the address wrong), each with a typed reason, each audited.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../db/schema.ts';
import type { Services } from '../services.ts';
import { isProvisionalPlaceholder, normalizeIdentifier } from '../accounts/identity.ts';
import { isOperatorLock, lockStateOf, supportMayUnlock } from '../accounts/lock-state.ts';
import { listSourceCounters, listSourceLocks } from '../accounts/login-throttle.repository.ts';
import {
  findUserById,
  listUsers,
  lockUserIndefinitely,
  unlockUser,
  markEmailWrong,
} from '../accounts/users.repository.ts';
import { cancelOpenTokens } from '../flows/recovery/recovery.repository.ts';
import { queueResetMail } from '../flows/recovery/recovery.flow.ts';
import { listMailEvents, listMailsOfUser } from '../mail/outbox.repository.ts';
import {
  listAuditByIdentifiers,
  listAuditForUser,
  searchAudit,
  STAGE_ONE_EVENTS,
} from '../security/audit.repository.ts';
import { Csrf, ErrorSummary, Field, Notice } from '../web/components.tsx';
import { HttpError } from '../web/errors.ts';
import { queryParam, readForm } from '../web/forms.ts';
import type { MessageKey, Translate } from '../web/i18n/i18n.ts';
import { sendPage } from '../web/render.ts';
import { adminContext, requireRole } from './admin.plugin.tsx';
import { AuditTable, MailTable } from './account-page.tsx';
import { AdminLayout, ReasonField, type Role } from './admin-layout.tsx';
import { jstLabel } from './audit-sentences.ts';
import { LoginStatus } from './login-status.tsx';

/**
 * The account's state in a few words, times as on the rest of the page (「2026-12-01 20:20 (JST)」). `lockedSources`
 * (the account page knows them, the search list does not) keeps 「有効」 from hiding a locked address or browser.
 */
export function statusText(t: Translate, u: User, now: number, lockedSources = 0): string {
  const lock = lockStateOf(u, now);
  if (lock === 'temporary') return t('admin.status.lockedUntil', { until: jstLabel(t, u.locked_until!) });
  if (lock === 'indefinite') return t('admin.status.lockedIndefinite');
  if (u.status === 'provisional' || isProvisionalPlaceholder(u.email)) return t('admin.status.provisional');
  if (u.status === 'closed') return t('admin.status.closed');
  return lockedSources > 0 ? t('admin.status.activeSourcesLocked', { n: lockedSources }) : t('admin.status.active');
}

export async function supportRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const guard = { preHandler: requireRole('admin', 'support') };

  app.get('/users', guard, async (request, reply) => {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    const q = (queryParam(request, 'q') ?? '').normalize('NFKC').trim().slice(0, 100);
    const users = q ? await listUsers(s.db, { search: q, limit: 100 }) : [];
    const attempts = q
      ? await searchAudit(s.db, {
          eventPrefix: 'password_reset.requested',
          identifier: normalizeIdentifier(q),
          limit: 50,
        })
      : [];
    const now = s.now();
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.nav.users'),
        children: (
          <>
            <form method="get" action="/admin/users" role="search">
              <Field
                t={t}
                id="q"
                name="q"
                label={t('admin.users.search')}
                help={t('admin.users.searchHelp')}
                value={q}
                maxLength={100}
              />
              <div class="actions">
                <button type="submit" class="button button--primary">
                  {t('admin.users.submit')}
                </button>
              </div>
            </form>
            {q ? (
              users.length ? (
                <table class="table">
                  <thead>
                    <tr>
                      <th scope="col">{t('admin.col.username')}</th>
                      <th scope="col">{t('admin.col.userId')}</th>
                      <th scope="col">{t('admin.col.code')}</th>
                      <th scope="col">{t('admin.col.name')}</th>
                      <th scope="col">{t('admin.col.email')}</th>
                      <th scope="col">{t('admin.col.status')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {users.map((u) => (
                      <tr>
                        <td>
                          <a href={`/admin/users/${u.id}`}>{u.username}</a>
                        </td>
                        <td>{u.user_id ?? '-'}</td>
                        <td>{u.institution_code ?? '-'}</td>
                        <td>
                          {u.display_name}
                          {u.institution_name ? ` / ${u.institution_name}` : ''}
                        </td>
                        <td>{u.email}</td>
                        <td>{statusText(t, u, now)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p>{t('admin.users.none')}</p>
              )
            ) : null}
            {q ? (
              <section>
                <h2>{t('admin.users.attemptsByIdentifier', { q })}</h2>
                {attempts.length ? <AuditTable t={t} rows={attempts} /> : <p>{t('admin.users.noAttempts')}</p>}
              </section>
            ) : null}
          </>
        ),
      }),
    );
  });

  /**
   * Which actions an account allows. A closed account (superseded by a new registration) allows none, as in the
   * CLI: unlocking it would reopen it beside the account that replaced it. Unlocking needs something to clear, and
   * support may not lift a lock an admin or the CLI set (S12: `unlockHeld`). Locking is for an account not already
   * locked by an operator.
   */
  function allowed(user: User, role: Role, now: number, sourceLocks: number) {
    const closed = user.status === 'closed';
    return {
      closed,
      // A source's lock (one address or device, L2) outlasts the account's after repeated locks: it can be lifted too.
      unlock: !closed && (user.status === 'locked' || user.failed_logins > 0 || sourceLocks > 0),
      unlockHeld: role === 'support' && !supportMayUnlock(user),
      lock: !closed && lockStateOf(user, now) !== 'indefinite',
      mail: !closed && !(user.status === 'provisional' || isProvisionalPlaceholder(user.email)),
    };
  }

  async function userPage(
    request: FastifyRequest,
    reply: FastifyReply,
    user: User,
    notice?: string,
    errors: Record<string, string> = {},
    status = 200,
    problem?: string,
  ) {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    const now = s.now();
    const audit = await listAuditForUser(s.db, user.id, 300);
    const logins = audit.filter((e) => e.event === 'login' || e.event === 'account.locked').slice(0, 20);
    const resets = audit
      .filter(
        (e) =>
          e.event.startsWith('password_reset.requested') ||
          e.event === 'password_reset.completed' ||
          e.event === 'password_reset.link_opened' ||
          e.event === 'support.reset_sent',
      )
      .slice(0, 20);
    const mails = await listMailsOfUser(s.db, user.id, 30);
    const events = await listMailEvents(
      s.db,
      mails.map((m) => m.id),
    );
    const counters = await listSourceCounters(s.db, `u:${user.id}`, now);
    const names = [
      ...new Set([user.username, user.user_id].filter((n): n is string => Boolean(n)).map(normalizeIdentifier)),
    ];
    const stageOne = await listAuditByIdentifiers(s.db, names, STAGE_ONE_EVENTS, 20);
    const lockedSources = counters.filter((c) => c.locked_until !== null && c.locked_until > now).length;
    const can = allowed(user, request.operator!.role, now, lockedSources);
    const action = (name: string, label: MessageKey, help?: MessageKey) => (
      <form method="post" action={`/admin/users/${user.id}/${name}`} class="action-box" novalidate>
        <Csrf token={ctx.csrfToken} />
        <h3>{t(label)}</h3>
        <ErrorSummary
          t={t}
          show={Boolean(errors[name])}
          items={errors[name] ? [{ field: `reason-${name}`, message: errors[name] }] : []}
        />
        {help ? <p class="muted">{t(help)}</p> : null}
        <ReasonField t={t} id={`reason-${name}`} error={errors[name]} />
        <button type="submit" class="button button--primary">
          {t(label)}
        </button>
      </form>
    );
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.user.heading', { login: user.user_id ?? user.username }),
        children: (
          <>
            {notice ? (
              <Notice kind="success">
                <p>{notice}</p>
              </Notice>
            ) : null}
            {problem ? (
              <Notice kind="error">
                <p>{problem}</p>
              </Notice>
            ) : null}
            <h2>{t('admin.user.summary')}</h2>
            <dl class="summary">
              <dt>{t('admin.col.username')}</dt>
              <dd>{user.username}</dd>
              <dt>{t('admin.col.userId')}</dt>
              <dd>{user.user_id ?? '-'}</dd>
              <dt>{t('admin.col.type')}</dt>
              <dd>{t(user.account_type === 'coordinator' ? 'reg.type.coordinator' : 'reg.type.institution')}</dd>
              <dt>{t('admin.col.status')}</dt>
              <dd>{statusText(t, user, now, lockedSources)}</dd>
              <dt>{t('admin.col.email')}</dt>
              <dd>{user.email}</dd>
              <dt>{t('admin.col.code')}</dt>
              <dd>
                {user.institution_code ?? '-'} {user.institution_name ?? ''}
              </dd>
              <dt>{t('admin.col.name')}</dt>
              <dd>{user.display_name}</dd>
              <dt>{t('admin.user.phone')}</dt>
              <dd>{user.phone ?? '-'}</dd>
            </dl>
            <LoginStatus
              t={t}
              user={user}
              audit={audit}
              counters={counters}
              now={now}
              lockoutMinutes={s.config.lockoutMinutes}
              lockoutThreshold={s.config.lockoutThreshold}
            />
            <h2>{t('admin.user.resets')}</h2>
            <AuditTable t={t} rows={resets} />
            <h2>{t('admin.user.stageOne')}</h2>
            <p class="muted">{t('admin.user.stageOneHelp', { names: names.join('、') })}</p>
            <AuditTable t={t} rows={stageOne} typed />
            <h2>{t('admin.user.mails')}</h2>
            <MailTable t={t} mails={mails} events={events} />
            <h2>{t('admin.user.logins')}</h2>
            <AuditTable t={t} rows={logins} />
            <h2>{t('admin.user.actions')}</h2>
            {can.closed ? (
              <p class="muted">{t('admin.user.closedNoActions')}</p>
            ) : (
              <>
                {!can.unlock ? (
                  <p class="muted">{t('admin.user.notLocked')}</p>
                ) : can.unlockHeld ? (
                  <p class="muted">{t('admin.user.lockHeldByAdmin')}</p>
                ) : (
                  action('unlock', 'admin.user.unlock')
                )}
                {can.lock ? action('lock', 'admin.user.lock', 'admin.user.lockHelp') : null}
                {can.mail ? (
                  action('send-reset', 'admin.user.sendReset')
                ) : (
                  <p class="muted">{t('admin.user.cannotSend')}</p>
                )}
                {can.mail && !isOperatorLock(user)
                  ? action('mark-email-wrong', 'admin.user.markWrong', 'admin.user.markWrongHelp')
                  : null}
              </>
            )}
          </>
        ),
      }),
      status,
    );
  }

  async function loadUser(id: string): Promise<User> {
    const user = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await findUserById(s.db, id) : undefined;
    if (!user) throw new HttpError('NOT_FOUND');
    return user;
  }

  app.get<{ Params: { id: string } }>('/users/:id', guard, async (request, reply) => {
    const user = await loadUser(request.params.id);
    await s.audit({
      event: 'support.viewed',
      outcome: 'ok',
      userId: user.id,
      actor: `operator:${request.operator!.username}`,
      ip: request.ip,
      userAgent: request.meta.userAgent,
    });
    return userPage(request, reply, user);
  });

  const ACTIONS = ['unlock', 'lock', 'send-reset', 'mark-email-wrong'] as const;
  app.post<{ Params: { id: string; action: string } }>(
    '/users/:id/:action',
    { preHandler: [app.csrfProtection, requireRole('admin', 'support')] },
    async (request, reply) => {
      const action = ACTIONS.find((a) => a === request.params.action);
      if (!action) throw new HttpError('NOT_FOUND');
      const user = await loadUser(request.params.id);
      const { t } = request;
      const { values } = readForm(request, { reason: 500 });
      const reason = values.reason.trim();
      // An action the account does not allow (a stale page, or a hand-made request) changes nothing: 409.
      const role = request.operator!.role;
      const can = allowed(user, role, s.now(), (await listSourceLocks(s.db, `u:${user.id}`, s.now())).length);
      if (can.closed) return userPage(request, reply, user, undefined, {}, 409, t('admin.user.closedNoActions'));
      if (action === 'unlock' && !can.unlock)
        return userPage(request, reply, user, undefined, {}, 409, t('admin.user.notLocked'));
      if (action === 'unlock' && can.unlockHeld)
        return userPage(request, reply, user, undefined, {}, 409, t('admin.user.lockHeldByAdmin'));
      if (action === 'lock' && !can.lock)
        return userPage(request, reply, user, undefined, {}, 409, t('admin.user.alreadyLocked'));
      // Marking the address wrong makes the account provisional, which would silently drop an operator's lock (S12).
      if (action === 'mark-email-wrong' && isOperatorLock(user))
        return userPage(request, reply, user, undefined, {}, 409, t('admin.user.unlockFirst'));
      if ((action === 'send-reset' || action === 'mark-email-wrong') && !can.mail)
        return userPage(request, reply, user, undefined, {}, 409, t('admin.user.cannotSend'));
      if (!reason) return userPage(request, reply, user, undefined, { [action]: t('admin.reasonRequired') }, 400);
      const now = s.now();
      const actor = `operator:${request.operator!.username}`;
      const meta = { actor, ip: request.ip, userAgent: request.meta.userAgent };
      let what: MessageKey;
      if (action === 'unlock') {
        await s.db.transaction().execute(async (trx) => {
          await unlockUser(trx, user, now, user.status === 'provisional' || isProvisionalPlaceholder(user.email));
          await s.audit(
            {
              event: 'support.unlocked',
              outcome: 'ok',
              userId: user.id,
              ...meta,
              detail: { reason, wasStatus: user.status },
            },
            trx,
          );
        });
        what = 'admin.user.unlock';
      } else if (action === 'lock') {
        await s.db.transaction().execute(async (trx) => {
          // The console's roles here are admin or support (the guard): the lock carries it, so support cannot lift an admin's.
          const sessionsEnded = await lockUserIndefinitely(trx, user.id, now, role === 'admin' ? 'admin' : 'support');
          await cancelOpenTokens(trx, user.id, now, null);
          await s.audit(
            {
              event: 'support.locked',
              outcome: 'ok',
              userId: user.id,
              ...meta,
              detail: { reason, sessionsEnded, by: role },
            },
            trx,
          );
        });
        what = 'admin.user.lock';
      } else if (action === 'send-reset') {
        await s.db.transaction().execute(async (trx) => {
          const { mailId } = await queueResetMail(s, trx, user, request.lang, now);
          await s.audit(
            {
              event: 'support.reset_sent',
              outcome: 'mail_queued',
              userId: user.id,
              ...meta,
              detail: { reason, mailId },
            },
            trx,
          );
        });
        s.mailWorker.kick();
        what = 'admin.user.sendReset';
      } else {
        await s.db.transaction().execute(async (trx) => {
          await markEmailWrong(trx, user.id, now);
          await s.audit(
            { event: 'support.email_marked_wrong', outcome: 'ok', userId: user.id, ...meta, detail: { reason } },
            trx,
          );
        });
        what = 'admin.user.markWrong';
      }
      const fresh = (await findUserById(s.db, user.id))!;
      return userPage(request, reply, fresh, t('admin.done', { what: t(what) }));
    },
  );
}
