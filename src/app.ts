/**
 * buildApp(deps) → a Fastify instance with every plugin and route; it never listens (server.ts does),
 * so tests inject requests into it.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import csrf from '@fastify/csrf-protection';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { Db, Dialect } from './db/database.ts';
import { POLICIES } from './accounts/password-policy.ts';
import { deleteExpiredSessions } from './accounts/sessions.repository.ts';
import { sweepLoginThrottle } from './accounts/login-throttle.ts';
import { deleteExpiredFlows } from './flows/recovery/recovery.repository.ts';
import { createMemoryCounters, createRedisCounters } from './security/counters.ts';
import { createSecretBox } from './security/secret-box.ts';
import { addressBucket } from './security/address-bucket.ts';
import { createMailWorker, type MailWorker } from './mail/worker.ts';
import type { MailTransport } from './mail/transports.ts';
import { makeAudit, type Services } from './services.ts';
import { createAuditChainer } from './security/audit.repository.ts';
import { auditKeyFrom, formatSignedHead } from './security/audit-key.ts';
import { countAuditEvent, createMetrics, operabilityRoutes } from './web/operability.ts';
import { baseCookie, cookieNames, installRequestContext } from './web/context.ts';
import { installSecurityHeaders } from './web/security-headers.ts';
import { installStrictUrlencoded, parseQueryStrict } from './web/strict-urlencoded.ts';
import { installHeaderGuard } from './web/header-guard.ts';
import { codeOf, HttpError, installErrorHandlers, sendError } from './web/errors.ts';
import { contentRoutes } from './content/content.routes.ts';
import { seedContent } from './content/seed-content.ts';
import { createTopPageCache } from './content/top-page-cache.ts';
import { loginRoutes } from './flows/login/login.routes.ts';
import { recoveryRoutes } from './flows/recovery/recovery.routes.ts';
import { processResetRequests } from './flows/recovery/recovery.flow.ts';
import { registrationRoutes } from './flows/registration/registration.routes.ts';
import { accountRoutes } from './flows/account/account.routes.ts';
import { devMailEnabled, devMailRoutes } from './mail/dev-mail.routes.ts';
import { adminPlugin } from './admin/admin.plugin.tsx';

export interface AppDeps {
  config: Config;
  db: Db;
  dialect: Dialect;
  transport: MailTransport;
  redis?: Redis | undefined;
  now?: () => number;
  /** pino options, or false for no logs (tests). */
  logger?: FastifyServerOptions['logger'];
  /** Start the mail worker's loop (tests may drive it with runOnce). Default true. */
  runMailWorker?: boolean;
  mailPollMs?: number;
  /** Key prefix in Redis (several portals, or tests, can share one Redis). */
  redisPrefix?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
    mailWorker: MailWorker;
  }
}

/** Never let a token reach a log line (T5): the reset link's sysparm_tiny, and the registration and e-mail change links' token. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:sysparm_tiny|token)=)[^&#]*/gi, '$1[REDACTED]');
}

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: {
      paths: [
        'req.headers.cookie',
        'req.headers.authorization',
        'res.headers["set-cookie"]',
        '*.password',
        '*.confirm',
        '*.captcha',
        '*.token',
        '*._csrf',
      ],
      censor: '[REDACTED]',
    },
    serializers: {
      req(req: { method: string; url: string; id: string; ip?: string }) {
        return { method: req.method, url: redactUrl(req.url), id: req.id, ip: req.ip };
      },
    },
  };
}

/**
 * Without TRUST_PROXY the portal sees the proxy's address as every client's (limits and the audit trail then
 * lump everyone together): the first request that carries X-Forwarded-For logs one warning (S4).
 */
function warnForwardedWithoutTrust(app: FastifyInstance): void {
  let warned = false;
  app.addHook('onRequest', async (request) => {
    if (warned || request.headers['x-forwarded-for'] === undefined) return;
    warned = true;
    request.log.warn(
      { peer: request.socket.remoteAddress },
      "a request came with X-Forwarded-For but TRUST_PROXY is not set: every client is seen as the proxy; set TRUST_PROXY to the proxy's address (e.g. 127.0.0.1)",
    );
  });
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db, dialect } = deps;
  const now = deps.now ?? Date.now;
  const app = Fastify({
    logger: deps.logger ?? false,
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    genReqId: () => randomUUID(),
    // Query strings are read strictly (S9): an unreadable one is refused once the page's language is known.
    routerOptions: { maxParamLength: 200, querystringParser: parseQueryStrict },
    // Malformed URLs (bad percent-encoding) get the same HTML error page as everything else (B1).
    frameworkErrors: (err, request, reply) => {
      request.log.info({ code: err.code }, 'request refused');
      sendError(request, reply, codeOf(err));
    },
  });

  const box = createSecretBox(config.sessionSecret);
  const metrics = createMetrics();
  const mailWorker = createMailWorker({
    db,
    dialect,
    box,
    transport: deps.transport,
    from: config.mailFrom,
    now,
    log: app.log,
    retryBaseMs: config.mailRetryBaseMs,
    maxAttempts: config.mailMaxAttempts,
    pollMs: deps.mailPollMs ?? 1000,
    claimMs: config.mailClaimMs,
    prepare: () => processResetRequests(services),
    onOutcome: (event) => countAuditEvent(metrics, event, event.slice(5)),
    onRound: () => metrics.mailRounds.inc(),
  });
  const services: Services = {
    config,
    db,
    dialect,
    now,
    box,
    counters: deps.redis
      ? createRedisCounters(deps.redis, `${deps.redisPrefix ?? 'iryo:'}rl:`)
      : createMemoryCounters(now),
    policy: POLICIES[config.passwordPolicy],
    branding: {
      baseUrl: config.baseUrl,
      callCenterPhone: config.callCenterPhone,
      contactLines: config.mailContactLines,
    },
    mailWorker,
    topPage: createTopPageCache(config.pageCacheSeconds * 1000),
    ...makeAudit(db, now, (input) => countAuditEvent(metrics, input.event, input.outcome)),
  };
  app.decorate('services', services);
  app.decorate('mailWorker', mailWorker);

  // Only HTML forms are accepted (parsed strictly in installStrictUrlencoded): any other content type is a 415 (B1).
  app.removeAllContentTypeParsers();
  const names = cookieNames(config.baseUrl);
  await app.register(cookie, { secret: config.sessionSecret });
  installSecurityHeaders(app, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    hsts: config.production && names.secure ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
  await app.register(rateLimit, {
    global: false,
    ...(deps.redis ? { redis: deps.redis, nameSpace: `${deps.redisPrefix ?? 'iryo:'}flood:` } : {}),
    errorResponseBuilder: () => new HttpError('RATE_LIMITED'),
    // Per IPv4 address or IPv6 /64, like every other per-address limit (security/address-bucket.ts). The plugin's own
    // default is the same unit today; naming it here keeps one definition for every limit.
    keyGenerator: (request) => addressBucket(request.ip),
  });
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: names.csrf,
    cookieOpts: { ...baseCookie(names), signed: true },
  });
  await app.register(fastifyStatic, {
    root: fileURLToPath(new URL('./web/static/', import.meta.url)),
    prefix: '/static/',
    maxAge: 3600_000,
  });

  if (config.trustProxy === false) warnForwardedWithoutTrust(app);
  installRequestContext(app, services);
  installStrictUrlencoded(app);
  installHeaderGuard(app);
  await operabilityRoutes(app, services, metrics, deps.redis, config.metricsToken);
  installErrorHandlers(app);
  await contentRoutes(app, services);
  await loginRoutes(app, services);
  await recoveryRoutes(app, services);
  await registrationRoutes(app, services);
  await accountRoutes(app, services);
  // Development only, loopback only: the file outbox in the browser (absent, 404, anywhere else).
  if (devMailEnabled(config)) await devMailRoutes(app, config);
  // Encapsulated: its hooks (operator session, roles) never reach the public routes.
  await app.register(adminPlugin, { prefix: '/admin', services });

  const sweeper = setInterval(() => {
    const t = now();
    Promise.all([
      deleteExpiredFlows(db, t - 24 * 3600_000),
      deleteExpiredSessions(db, t, config.sessionIdleMinutes * 60_000),
      sweepLoginThrottle(db, t),
    ]).catch((err) => app.log.warn({ err }, 'sweep failed'));
  }, 10 * 60_000);
  sweeper.unref();

  app.addHook('onReady', async () => seedContent(db, now()));
  const auditKey = auditKeyFrom(config.auditKey);
  const chainer = createAuditChainer(
    db,
    dialect,
    auditKey,
    250,
    (err) => app.log.error({ err }, 'audit chaining failed'),
    // The head in the log is an anchor of the trail outside the database (audit verify --head CHAIN:HASH, or the
    // signed head with --heads, as the scheduled export writes them).
    (head) =>
      app.log.info(
        { auditHead: `${head.chain}:${head.hash}`, signedAuditHead: formatSignedHead(auditKey, head) },
        'audit chain head',
      ),
  );
  app.addHook('onReady', async () => chainer.start());
  if (deps.runMailWorker !== false) app.addHook('onReady', async () => mailWorker.start());
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    // Fastify runs this after the HTTP server has closed (its own onClose is registered later and runs first).
    const started = Date.now();
    const { handedBack } = await mailWorker.stop();
    app.log.info({ waitedMs: Date.now() - started, mailsHandedBack: handedBack }, 'shutdown: mail worker stopped');
    await chainer.stop();
  });
  return app;
}
