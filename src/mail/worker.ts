/**
 * Delivers the outbox: claims due mails, sends them, and retries with exponential backoff.
 * A mail server outage loses nothing: the mail waits in the outbox until the server answers.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Db, Dialect } from '../db/database.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { appendAudit } from '../security/audit.repository.ts';
import { claimDueMails, markMailFailed, markMailRetry, markMailSent, releaseClaims } from './outbox.repository.ts';
import type { MailTransport } from './transports.ts';

export interface MailWorkerDeps {
  db: Db;
  dialect: Dialect;
  box: SecretBox;
  transport: MailTransport;
  from: string;
  now: () => number;
  log: FastifyBaseLogger;
  retryBaseMs: number;
  maxAttempts: number;
  pollMs?: number;
  claimMs?: number;
  /**
   * Work that queues mail, run at the start of every round (the reset requests of stage ②); returns how many
   * items it handled, so that a busy queue keeps the worker going.
   */
  prepare?: () => Promise<number>;
  /** Told of every delivery outcome (metrics). */
  onOutcome?: (event: 'mail.sent' | 'mail.retry' | 'mail.failed') => void;
  /** Told when a round starts (metrics). */
  onRound?: () => void;
}

export interface MailWorker {
  start(): void;
  /** Runs one delivery round now (also used by tests); resolves when it is done. */
  runOnce(): Promise<number>;
  /** Asks for a round soon (after a mail is queued). */
  kick(): void;
  /**
   * Stops the loop: the mail being sent is finished, every other claimed mail goes back to the queue (at once, not
   * after that send). Resolves with how many mails were handed back.
   */
  stop(): Promise<{ handedBack: number }>;
}

const MAX_BACKOFF_MS = 3600_000;

/**
 * The error as operators read it in the console. Connecting to a name with several addresses (localhost: ::1 and
 * 127.0.0.1) fails with an AggregateError whose own message is empty: its inner errors say what happened.
 */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) {
    return [...new Set(err.errors.map(describeError))].join('; ');
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return err.message || (typeof code === 'string' ? code : '') || err.name;
  }
  return String(err);
}

export function createMailWorker(d: MailWorkerDeps): MailWorker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = true;
  /** Set by stop(): the mail being sent is finished, the rest of the claimed batch is given back. */
  let stopping = false;
  const inFlight = new Set<string>();
  /** The mail whose SMTP transaction is under way (stop() leaves its claim alone until it ends). */
  let sending: string | undefined;

  /** Returns how many mails this round claimed. */
  async function deliver(): Promise<number> {
    if (stopping) return 0;
    let prepared = 0;
    try {
      prepared = (await d.prepare?.()) ?? 0;
    } catch (err) {
      d.log.error({ err }, 'mail worker: preparing mail failed');
    }
    if (stopping) return prepared;
    const now = d.now();
    const batch = await claimDueMails(d.db, d.dialect, now, now + (d.claimMs ?? 60_000), 20);
    for (const mail of batch) inFlight.add(mail.id);
    for (const mail of batch) {
      // Shutting down: the mails not started yet stay in inFlight and stop() gives them back to the queue,
      // so a slow SMTP server cannot hold the shutdown for a whole batch (nor leave claims to expire).
      if (stopping) break;
      sending = mail.id;
      const attempts = mail.attempts + 1;
      try {
        const text = d.box.open(mail.body_enc);
        const { where } = await d.transport.send({
          id: mail.id,
          from: d.from,
          to: mail.to_addr,
          subject: mail.subject,
          text,
        });
        await d.db.transaction().execute(async (trx) => {
          await markMailSent(trx, mail.id, d.now());
          await appendAudit(trx, d.now(), {
            event: 'mail.sent',
            outcome: 'sent',
            userId: mail.user_id,
            detail: { mailId: mail.id, kind: mail.kind, attempts },
          });
        });
        // Tells a developer where the file went; never the body (it may hold a token).
        d.log.info({ mailId: mail.id, kind: mail.kind, where }, 'mail delivered');
        d.onOutcome?.('mail.sent');
      } catch (err) {
        const error = describeError(err).slice(0, 500);
        await d.db.transaction().execute(async (trx) => {
          if (attempts >= d.maxAttempts) {
            await markMailFailed(trx, mail.id, d.now(), attempts, error);
            await appendAudit(trx, d.now(), {
              event: 'mail.failed',
              outcome: 'failed',
              userId: mail.user_id,
              detail: { mailId: mail.id, kind: mail.kind, attempts, error },
            });
          } else {
            const delay = Math.min(d.retryBaseMs * 2 ** (attempts - 1), MAX_BACKOFF_MS);
            await markMailRetry(trx, mail.id, d.now(), attempts, d.now() + delay, error);
            await appendAudit(trx, d.now(), {
              event: 'mail.retry',
              outcome: 'retry',
              userId: mail.user_id,
              detail: { mailId: mail.id, kind: mail.kind, attempts, error },
            });
          }
        });
        d.log.warn({ mailId: mail.id, kind: mail.kind, attempts, error }, 'mail delivery failed');
        d.onOutcome?.(attempts >= d.maxAttempts ? 'mail.failed' : 'mail.retry');
      } finally {
        inFlight.delete(mail.id);
        sending = undefined;
      }
    }
    return batch.length + prepared;
  }

  /**
   * The round queued behind the running one, shared by every runOnce() during that round: however many callers,
   * at most one round waits (a chain of waiters, one per call, re-chained at every later round, grew without bound).
   */
  let next: Promise<number> | undefined;
  /** A kick came during a round: one more round is due when it ends (a flag, not one more waiter per kick). */
  let due = false;
  /** The timer is set to fire at once (further kicks before it fires change nothing). */
  let soon = false;

  function startRound(): Promise<number> {
    d.onRound?.();
    const round = deliver()
      .catch((err) => {
        d.log.error({ err }, 'mail worker round failed');
        return 0;
      })
      .finally(() => {
        running = undefined;
        if (due) {
          due = false;
          schedule(0);
        }
      });
    running = round;
    return round;
  }

  function runOnce(): Promise<number> {
    if (!running) return startRound();
    next ??= running.then(() => {
      next = undefined;
      return runOnce();
    });
    return next;
  }

  function schedule(ms: number) {
    if (stopped) return;
    clearTimeout(timer);
    soon = ms === 0;
    timer = setTimeout(async () => {
      timer = undefined;
      soon = false;
      // A round started by runOnce() is under way: it starts the next one when it ends.
      if (running) {
        due = true;
        return;
      }
      const claimed = await startRound();
      // Unless the round's end (or a kick meanwhile) already set the next timer: a busy queue is drained at once,
      // an idle one is polled.
      if (!timer) schedule(claimed > 0 ? 0 : (d.pollMs ?? 1000));
    }, ms);
    timer.unref();
  }

  return {
    start() {
      stopped = false;
      stopping = false;
      schedule(0);
    },
    runOnce,
    kick() {
      if (stopped) return;
      if (running) due = true;
      else if (!soon) schedule(0);
    },
    async stop() {
      stopped = true;
      stopping = true;
      clearTimeout(timer);
      timer = undefined;
      soon = false;
      // The claimed mails not started yet go back now: a slow SMTP server holding the one being sent must not keep
      // them claimed until the shutdown deadline (they would wait MAIL_CLAIM_MS for another instance).
      const notStarted = [...inFlight].filter((id) => id !== sending);
      for (const id of notStarted) inFlight.delete(id);
      await releaseClaims(d.db, notStarted);
      if (running) await running;
      // Requests already answered are decided before the process ends (their mails wait in the outbox).
      try {
        for (let i = 0; i < 100 && ((await d.prepare?.()) ?? 0) > 0; i++);
      } catch (err) {
        d.log.error({ err }, 'mail worker: preparing mail at shutdown failed');
      }
      const rest = [...inFlight];
      await releaseClaims(d.db, rest);
      inFlight.clear();
      return { handedBack: notStarted.length + rest.length };
    },
  };
}
