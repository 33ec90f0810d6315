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
    for (const v of Array.isArray(value) ? value : [value])
      validateHeaderValue('x', typeof v === 'number' ? String(v) : v);
    return true;
  } catch {
    return false;
  }
}

export function installHeaderGuard(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs on every response, and most find nothing to do.
  app.addHook('onSend', (request, reply, payload, done) => {
    const headers = reply.getHeaders();
    let bad: string[] | undefined;
    for (const name in headers) {
      const v = headers[name];
      if (v !== undefined && !isWritable(v)) (bad ??= []).push(name);
    }
    if (!bad) return done(null, payload);
    for (const name of bad) reply.removeHeader(name);
    request.log.info({ headers: bad }, 'response header refused (request data not writable in a header)');
    done(new HttpError('BAD_REQUEST', `header ${bad.join(', ')} not writable`));
  });
}
