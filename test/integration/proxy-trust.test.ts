/**
 * S4 (issue 10, item 4): the client address behind a proxy. /metrics' loopback check uses the socket's peer, never
 * X-Forwarded-For; without TRUST_PROXY a forwarded request logs one warning per process; with TRUST_PROXY the
 * forwarded address is the client's only when the hop is a trusted one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPortal, type TestPortal } from '../helpers/test-app.ts';

const XFF_WARNING = /X-Forwarded-For but TRUST_PROXY is not set/;

describe('S4 /metrics behind a trusted proxy', () => {
  let p: TestPortal;
  before(async () => {
    // Every hop trusted from 10.0.0.0/8: a client there could write any X-Forwarded-For it likes.
    p = await startTestPortal('sqlite', { env: { TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' } });
  });
  after(async () => {
    await p?.close();
  });

  test('S4 X-Forwarded-For: 127.0.0.1 from a non-loopback socket is refused; the loopback socket itself is let in', async () => {
    const spoofed = await p.app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '10.1.2.3',
      headers: { 'x-forwarded-for': '127.0.0.1' },
    });
    assert.equal(spoofed.statusCode, 403);
    assert.equal(spoofed.body, 'forbidden\n');
    const viaProxy = await p.app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': '127.0.0.1' },
    });
    assert.equal(viaProxy.statusCode, 200);
    const direct = await p.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    assert.equal(direct.statusCode, 200);
    assert.match(direct.body, /^iryo_outbox_depth \d+$/m);
  });

  test('S4 the audit trail takes the forwarded address from a trusted hop only', async () => {
    await p.createUser({ username: 's4-user' });
    const login = async (peer: string, forwarded: string) => {
      const c = p.client();
      c.ip = peer;
      await c.open('/login');
      await c.post(
        '/login',
        { username: 's4-user', password: 'Wrong-2026-pass' },
        { headers: { 'x-forwarded-for': forwarded } },
      );
    };
    await login('10.9.9.9', '198.51.100.7');
    await login('203.0.113.50', '198.51.100.8');
    const ips = (await p.audit('login')).map((a) => a.ip);
    assert.ok(ips.includes('198.51.100.7'), 'through a trusted proxy: the client');
    assert.ok(ips.includes('203.0.113.50'), 'from an untrusted peer: the peer, whatever it forwards');
    assert.ok(!ips.includes('198.51.100.8'));
  });
});

describe('S4 no TRUST_PROXY: one warning when a proxy forwards', () => {
  let p: TestPortal;
  const lines: string[] = [];
  before(async () => {
    p = await startTestPortal('sqlite', { logStream: { write: (line) => void lines.push(line) } });
  });
  after(async () => {
    await p?.close();
  });

  test('S4 the first request with X-Forwarded-For logs one warning naming TRUST_PROXY; later ones log none', async () => {
    await p.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '127.0.0.1' });
    assert.equal(lines.filter((l) => XFF_WARNING.test(l)).length, 0, 'no warning without the header');
    for (let i = 0; i < 3; i++) {
      await p.app.inject({
        method: 'GET',
        url: '/csm',
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
      });
    }
    const warnings = lines.filter((l) => XFF_WARNING.test(l));
    assert.equal(warnings.length, 1, 'once per process');
    const entry = JSON.parse(warnings[0]!) as { level: number; msg: string };
    assert.equal(entry.level, 40, 'level warn');
    assert.match(entry.msg, /set TRUST_PROXY/);
  });
});
