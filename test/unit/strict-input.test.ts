/** S9: the strict form/query reader, and the header guard that turns an unwritable header into the portal's 400 page. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { parseUrlencodedStrict } from '../../src/web/strict-urlencoded.ts';
import { installHeaderGuard } from '../../src/web/header-guard.ts';
import { installErrorHandlers } from '../../src/web/errors.ts';
import { ja } from '../../src/web/i18n/ja.ts';

test('S9 the strict reader: well-formed forms are read as browsers send them', () => {
  assert.deepEqual(
    { ...parseUrlencodedStrict('a=1&b=x+y&c=%E3%81%82&d=&e') },
    { a: '1', b: 'x y', c: 'あ', d: '', e: '' },
  );
  assert.deepEqual(
    { ...parseUrlencodedStrict('a=1&a=2&a=3') },
    { a: ['1', '2', '3'] },
    'a repeated name gives an array (readForm refuses it)',
  );
  assert.deepEqual(
    { ...parseUrlencodedStrict(Buffer.from('t=line1%0D%0Aline2%09tab')) },
    { t: 'line1\r\nline2\ttab' },
    'tab and line breaks stay',
  );
  assert.deepEqual({ ...parseUrlencodedStrict(Buffer.from('n=日本', 'utf8')) }, { n: '日本' }, 'raw UTF-8 bytes');
  assert.equal(Object.getPrototypeOf(parseUrlencodedStrict('__proto__=x')), null, 'no prototype to pollute');
});

test('S9 the strict reader: broken percent-encoding, invalid UTF-8 and control characters make the input unreadable', () => {
  for (const bad of [
    'reason=%E3%81%ZZ%',
    'a=%',
    'a=%4',
    'a=%zz',
    'a=%E3%81',
    'a=%C0%AF',
    'a=%ED%A0%80',
    'a=%00',
    'a=x%01',
    'a=%7F',
    'a%00=1',
    'a=b\u0000',
  ]) {
    assert.equal(parseUrlencodedStrict(bad), null, bad);
  }
  assert.equal(parseUrlencodedStrict(Buffer.from([0x61, 0x3d, 0xff])), null, 'raw bytes that are not UTF-8');
});

test("S9 a header that cannot be written (control or non-Latin-1 character) gives the 400 page, not Fastify's JSON 500", async () => {
  const app = Fastify();
  installErrorHandlers(app);
  installHeaderGuard(app);
  app.get<{ Querystring: { v: string } }>('/echo', async (request, reply) =>
    reply.header('content-disposition', `attachment; filename="${request.query.v}"`).send('ok'),
  );
  for (const v of ['a\u0001b', '日本', 'x\r\nSet-Cookie: y=1']) {
    const r = await app.inject({ method: 'GET', url: `/echo?v=${encodeURIComponent(v)}` });
    assert.equal(r.statusCode, 400, JSON.stringify(v));
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.ok(r.body.includes(ja['error.badRequest']));
    assert.equal(r.headers['content-disposition'], undefined, 'the header was dropped');
  }
  const fine = await app.inject({ method: 'GET', url: '/echo?v=audit.csv' });
  assert.equal(fine.statusCode, 200);
  assert.equal(fine.headers['content-disposition'], 'attachment; filename="audit.csv"');
  await app.close();
});
