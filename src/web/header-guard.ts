/**
 * The last check before a response leaves (S9): a header built from request data (a Location, a file name, a
 * cookie) that holds a control or non-Latin-1 character would make Node throw while writing the head, and
 * Fastify would answer with its own JSON 500. Such a header is dropped and the request refused with the
 * portal's 400 page instead. The routes make their headers safe themselves; this only catches what they miss.
 */
import { validateHeaderValue } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.ts';

function isWritable(value: unknown): boolean {
  try {
    for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue('x', typeof v === 'number' ? String(v) : v);
    return true;
  } catch {
    return false;
  }
}

export function installHeaderGuard(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    const bad = Object.entries(reply.getHeaders()).filter(([, v]) => v !== undefined && !isWritable(v)).map(([k]) => k);
    if (!bad.length) return;
    for (const name of bad) reply.removeHeader(name);
    request.log.info({ headers: bad }, 'response header refused (request data not writable in a header)');
    throw new HttpError('BAD_REQUEST', `header ${bad.join(', ')} not writable`);
  });
}
