/**
 * /dev/mail: the development outbox (data/outbox/*.eml) in the browser, each mail rendered with clickable links.
 * Registered only with NODE_ENV=development and no SMTP_URL (the file outbox in use); answered only to a loopback
 * socket address (the TCP peer, never a header such as X-Forwarded-For): anyone else gets the ordinary 404 page.
 * The mails hold live reset links, so this page must never exist where other people can reach it.
 */
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { pageContext } from '../web/context.ts';
import { sendError } from '../web/errors.ts';
import { sendPage } from '../web/render.ts';
import { listOutbox, readOutboxMail } from './eml-reader.ts';
import { DevMailListPage, DevMailPage } from './dev-mail.views.tsx';

/** Whether this portal serves /dev/mail (development, mails written as files). */
export function devMailEnabled(config: Config): boolean {
  return config.nodeEnv === 'development' && !config.smtpUrl;
}

/** The TCP peer is this machine (127.0.0.0/8 or ::1, also IPv4-mapped). request.ip would follow TRUST_PROXY. */
function fromLoopback(request: FastifyRequest): boolean {
  const ip = request.socket.remoteAddress ?? '';
  return /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip) || ip === '::1';
}

export async function devMailRoutes(app: FastifyInstance, config: Config): Promise<void> {
  const dir = join(config.dataDir, 'outbox');

  app.get('/dev/mail', async (request, reply) => {
    if (!fromLoopback(request)) return sendError(request, reply, 'NOT_FOUND');
    reply.header('cache-control', 'no-store');
    return sendPage(reply, DevMailListPage({ ctx: pageContext(request, reply), dir, mails: listOutbox(dir) }));
  });

  app.get<{ Params: { file: string } }>('/dev/mail/:file', async (request, reply) => {
    if (!fromLoopback(request)) return sendError(request, reply, 'NOT_FOUND');
    const mail = readOutboxMail(dir, request.params.file);
    if (!mail) return sendError(request, reply, 'NOT_FOUND');
    reply.header('cache-control', 'no-store');
    return sendPage(reply, DevMailPage({ ctx: pageContext(request, reply), mail }));
  });
}
