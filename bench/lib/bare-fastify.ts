/**
 * Limit (b): bare Fastify serving the exact bytes (status, headers, body) of the portal's GET /csm, fetched once.
 * Usage: node --import tsx bench/lib/bare-fastify.ts PORT FILE.json (FILE: { headers, body }) → prints "ready".
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const port = Number(process.argv[2]);
const page = JSON.parse(readFileSync(process.argv[3]!, 'utf8')) as {
  headers: Record<string, string | string[]>;
  body: string;
};
const body = Buffer.from(page.body, 'utf8');
const app = Fastify({ logger: false });
app.get('/csm', async (_request, reply) => reply.headers(page.headers).send(body));
await app.listen({ port, host: '127.0.0.1' });
console.log('ready');
