/**
 * Operability: /healthz (the process answers), /readyz (database, Redis and mail state), /metrics (Prometheus),
 * and a request id on every response. /metrics answers loopback callers, or anyone with METRICS_TOKEN.
 * "Loopback" is the socket's own peer address, never request.ip: under TRUST_PROXY that comes from
 * X-Forwarded-For, which a client behind a trusted proxy writes itself (S4).
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Services } from '../services.ts';
import { pingDatabase } from '../db/database.ts';
import { outboxStats } from '../mail/outbox.repository.ts';
import { sameDigest, hashToken } from '../security/tokens.ts';
import { isLoopbackAddress } from '../security/address-list.ts';

export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  latency: Histogram<'method' | 'route'>;
  logins: Counter<'outcome'>;
  resets: Counter<'outcome'>;
  mails: Counter<'outcome'>;
  /** Delivery rounds the mail worker ran: with a steady queue it tracks the work, never the number of kicks (H11). */
  mailRounds: Counter;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // The default metrics keep their standard names (process_*, nodejs_*): stock Node.js dashboards and alerts expect them.
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'iryo_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'iryo_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    logins: new Counter({
      name: 'iryo_logins_total',
      help: 'Login attempts by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    resets: new Counter({
      name: 'iryo_password_reset_requests_total',
      help: 'Password reset requests (stage ②) by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    mails: new Counter({
      name: 'iryo_mail_deliveries_total',
      help: 'Mail delivery attempts by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    mailRounds: new Counter({
      name: 'iryo_mail_worker_rounds_total',
      help: 'Rounds the mail worker ran (deciding reset requests, delivering mail)',
      registers: [registry],
    }),
  };
}

/**
 * Feeds the metrics from the audit events the flows already write (one place, no extra calls in the flows).
 * The labels never tell an unknown user from a wrong password or a locked account, nor a queued mail from a
 * mismatch (L1, R1: whoever reads /metrics must not learn what the pages hide); the audit trail keeps the precise
 * outcome for the call center. `throttled` is the per-address 429, which the caller sees anyway.
 */
export function countAuditEvent(m: Metrics, event: string, outcome: string): void {
  if (event === 'login') m.logins.inc({ outcome: outcome === 'ok' || outcome === 'throttled' ? outcome : 'failed' });
  else if (event === 'password_reset.requested') m.resets.inc({ outcome: 'accepted' });
  else if (event === 'mail.sent' || event === 'mail.retry' || event === 'mail.failed') m.mails.inc({ outcome });
}

export async function operabilityRoutes(
  app: FastifyInstance,
  s: Services,
  m: Metrics,
  redis: Redis | undefined,
  metricsToken: string | undefined,
): Promise<void> {
  const started = process.hrtime.bigint();
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    m.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    m.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/healthz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok', uptimeSeconds: Number((process.hrtime.bigint() - started) / 1_000_000_000n) };
  });

  app.get('/readyz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    const database = await pingDatabase(s.db);
    let redisOk: boolean | null = null;
    if (redis) {
      try {
        redisOk = (await redis.ping()) === 'PONG';
      } catch {
        redisOk = false;
      }
    }
    let mail: Record<string, number | null> | null = null;
    if (database) {
      const st = await outboxStats(s.db, s.now());
      const age = (at: number | null) => (at === null ? null : Math.round((s.now() - at) / 1000));
      mail = {
        queued: st.queued,
        failed: st.failed,
        oldestUndeliveredSeconds: age(st.oldestUndeliveredAt),
        resetRequestsWaiting: st.resetRequestsWaiting,
        oldestResetRequestSeconds: age(st.oldestResetRequestAt),
      };
    }
    const ready = database && redisOk !== false;
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not ready', database, redis: redisOk, mail });
  });

  app.get('/metrics', async (request, reply) => {
    const auth = String(request.headers.authorization ?? '');
    const allowed = metricsToken
      ? sameDigest(hashToken(auth), hashToken(`Bearer ${metricsToken}`))
      : isLoopbackAddress(request.socket.remoteAddress);
    if (!allowed) return reply.code(403).type('text/plain').send('forbidden\n');
    const st = await outboxStats(s.db, s.now());
    const text = await m.registry.metrics();
    const age = (at: number | null) => (at === null ? 0 : Math.round((s.now() - at) / 1000));
    const gauge = (name: string, help: string, value: number) =>
      `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`;
    const extra = [
      gauge('iryo_outbox_depth', 'Mails queued or being sent', st.queued),
      gauge('iryo_outbox_failed', 'Mails given up after all retries', st.failed),
      gauge(
        'iryo_outbox_oldest_undelivered_seconds',
        'Age of the oldest undelivered mail',
        age(st.oldestUndeliveredAt),
      ),
      gauge(
        'iryo_reset_requests_waiting',
        'Stage-2 reset requests the worker has not decided yet',
        st.resetRequestsWaiting,
      ),
      gauge(
        'iryo_reset_requests_oldest_seconds',
        'Age of the oldest undecided reset request',
        age(st.oldestResetRequestAt),
      ),
    ].join('');
    return reply
      .type(m.registry.contentType)
      .header('cache-control', 'no-store')
      .send(text + extra);
  });
}
