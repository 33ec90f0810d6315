/** T1: reset tokens and ids come from the CSPRNG through one buffer; no byte is handed out twice. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTokenShape, randomAlnum, randomId } from '../../src/security/tokens.ts';

test('T1: a reset token is 32 letters and digits; 20,000 tokens are all different and use every character about equally', () => {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const t = randomAlnum(32);
    assert.ok(isTokenShape(t), t);
    seen.add(t);
    for (const c of t) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(seen.size, 20_000);
  assert.equal(counts.size, 62);
  const expected = (20_000 * 32) / 62;
  for (const [c, n] of counts)
    assert.ok(Math.abs(n - expected) < expected * 0.06, `${c}: ${n} vs ${expected.toFixed(0)}`);
});

test('T1: ids across many refills of the random buffer never repeat (16 bytes → 22 base64url characters)', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 50_000; i++) {
    const id = randomId();
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 50_000);
  assert.match(randomId(32), /^[A-Za-z0-9_-]{43}$/);
  assert.equal(randomId(2000).length, Math.ceil((2000 * 4) / 3), 'a large request bypasses the buffer');
});
