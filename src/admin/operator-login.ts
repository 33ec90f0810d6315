/**
 * The console's login (/admin/login) under the portal's rules (L1, L2, issue 10 items 2, 3 and 6): an attempt slot
 * taken atomically before the hash, failures per (operator, source) and per operator, the operator's own device
 * cookie and networks not held by locks caused elsewhere, and one argon2id verification for every failure.
 */
import type { Operator } from '../db/schema.ts';
import type { Services } from '../services.ts';
import { deviceCookieWith } from '../accounts/device-cookie.ts';
import {
  recordFailedAttempt,
  recordSuccessfulAttempt,
  sourceLockDetail,
  sourceOfAttempt,
  takeAttempt,
  type AccountCounter,
  type Attempt,
} from '../accounts/login-throttle.ts';
import { checkLoginPassword, holdFailureAnswer } from '../accounts/passwords.ts';
import { hashToken, randomId } from '../security/tokens.ts';
import {
  deleteOperatorSession,
  findOperatorByUsername,
  insertOperatorSession,
  lockOperatorUntil,
  recordOperatorSuccess,
  takeOperatorAttempt,
} from './operators.repository.ts';

export type OperatorLoginResult =
  | { ok: true; operator: Operator; sessionId: string; deviceCookie: string }
  | { ok: false };

export interface OperatorLoginMeta {
  ip: string;
  userAgent: string;
  deviceCookie: string | undefined;
  /** The console session the browser had, ended by the new one. */
  previousSessionHash: string | null;
}

function operatorCounter(operator: Operator): AccountCounter {
  return {
    take: (db, threshold, now) => takeOperatorAttempt(db, operator.id, threshold, now),
    lock: (db, until, now) => lockOperatorUntil(db, operator.id, until, now),
  };
}

/** Checks an operator's name and password; every failure looks and costs the same (L1). */
export async function logInOperator(
  s: Services,
  typedName: string,
  password: string,
  meta: OperatorLoginMeta,
): Promise<OperatorLoginResult> {
  const started = performance.now();
  const username = typedName.normalize('NFKC').trim().toLowerCase();
  const operator = username ? await findOperatorByUsername(s.db, username) : undefined;
  const base = {
    identifier: username,
    ip: meta.ip,
    userAgent: meta.userAgent,
    actor: username ? `operator:${username}` : null,
  };
  const subject = operator ? `o:${operator.id}` : '';
  const counter = operator ? operatorCounter(operator) : undefined;
  let attempt: Attempt | undefined;
  if (operator && operator.status === 'active') {
    attempt = await takeAttempt(s, subject, await sourceOfAttempt(s, subject, meta.ip, meta.deviceCookie), counter!);
  }
  const ok = await checkLoginPassword(
    attempt?.ok ? { passwordHash: operator!.password_hash, legacyHash: null } : null,
    password,
  );

  if (!ok || !operator || !attempt?.ok) {
    const outcome = !operator ? 'unknown_operator' : attempt?.ok ? 'bad_password' : 'locked';
    const held =
      !operator || attempt?.ok
        ? undefined
        : !attempt
          ? 'disabled'
          : attempt.held === 'source'
            ? attempt.source.kind
            : 'account';
    await s.db.transaction().execute(async (trx) => {
      if (!operator || !attempt?.ok) {
        await s.audit({ event: 'admin.login', outcome, ...base, ...(held ? { detail: { held } } : {}) }, trx);
        return;
      }
      const locks = await recordFailedAttempt(s, trx, subject, attempt, counter!);
      await s.audit(
        {
          event: 'admin.login',
          outcome,
          ...base,
          detail: {
            failures: attempt.sourceFailures,
            accountFailures: attempt.accountFailures,
            source: attempt.source.kind,
          },
        },
        trx,
      );
      if (locks.source)
        await s.audit(
          {
            event: 'admin.locked',
            outcome: 'source',
            ...base,
            detail: sourceLockDetail(attempt.source, meta.ip, locks.source, attempt.sourceFailures),
          },
          trx,
        );
      if (locks.accountUntil !== null) {
        await s.audit(
          {
            event: 'admin.locked',
            outcome: 'temporary',
            ...base,
            detail: { until: new Date(locks.accountUntil).toISOString(), failures: attempt.accountFailures },
          },
          trx,
        );
      }
    });
    await holdFailureAnswer(started, s.config.loginFailureFloorMs);
    return { ok: false };
  }

  const now = s.now();
  const sessionId = randomId(32);
  await s.db.transaction().execute(async (trx) => {
    await recordOperatorSuccess(trx, operator.id, now);
    await recordSuccessfulAttempt(s, trx, subject, attempt.source, meta.ip);
    if (meta.previousSessionHash) await deleteOperatorSession(trx, meta.previousSessionHash);
    await insertOperatorSession(trx, {
      id_hash: hashToken(sessionId),
      operator_id: operator.id,
      created_at: now,
      last_seen_at: now,
      expires_at: now + s.config.sessionAbsoluteHours * 3600_000,
      ip: meta.ip,
      user_agent: meta.userAgent,
    });
    await s.audit(
      { event: 'admin.login', outcome: 'ok', ...base, detail: { role: operator.role, source: attempt.source.kind } },
      trx,
    );
  });
  return {
    ok: true,
    operator,
    sessionId,
    deviceCookie: deviceCookieWith(s.config.sessionSecret, meta.deviceCookie, subject),
  };
}
