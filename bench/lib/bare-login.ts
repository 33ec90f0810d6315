/**
 * A reference beside limit (a): bare Fastify with one route, POST /login, that parses the same form, verifies the
 * password with argon2id (the portal's parameters, the same thread pool) and answers 303 → /csm. No database, no
 * CSRF, no session: what any Node web server doing this hash per request gets on these cores.
 * Usage: node --import tsx bench/lib/bare-login.ts PORT → prints "ready".
 */
import '../../src/threadpool.ts';
import Fastify from 'fastify';
import formbody from '@fastify/formbody';
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_PARAMS } from '../../src/accounts/passwords.ts';
import { BENCH_PASSWORD } from './database.ts';

const port = Number(process.argv[2]);
const stored = await hash(BENCH_PASSWORD, ARGON2_PARAMS);
const app = Fastify({ logger: false });
await app.register(formbody);
app.post<{ Body: { password?: string } }>('/login', async (request, reply) => {
  const ok = await verify(stored, String(request.body?.password ?? ''));
  return ok ? reply.redirect('/csm', 303) : reply.code(401).send('');
});
await app.listen({ port, host: '127.0.0.1' });
console.log('ready');
