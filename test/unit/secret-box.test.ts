/** The secret box (AES-256-GCM) that seals queued mail bodies and CAPTCHA answers: only its own full tags open it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretBox } from '../../src/security/secret-box.ts';

const box = createSecretBox('s'.repeat(32));

/** The sealed value with its tag (third part) replaced. */
function withTag(sealed: string, tag: (t: Buffer) => Buffer): string {
  const parts = sealed.split('.');
  parts[2] = tag(Buffer.from(parts[2] ?? '', 'base64')).toString('base64');
  return parts.join('.');
}

test('R2 T1 secret box: a sealed value opens to its text; the text is not in it', () => {
  const sealed = box.seal('https://portal.example.jp/passwordreset.do?sysparm_tiny=abc');
  assert.ok(!sealed.includes('sysparm_tiny'));
  assert.equal(box.open(sealed), 'https://portal.example.jp/passwordreset.do?sysparm_tiny=abc');
  assert.throws(() => createSecretBox('t'.repeat(32)).open(sealed), 'another secret cannot open it');
});

test('R2 T1 secret box: a tag cut short is refused (GCM would otherwise check only its first bytes)', () => {
  const sealed = box.seal('封をした本文');
  assert.equal(Buffer.from(sealed.split('.')[2] ?? '', 'base64').length, 16, 'a full 16-byte tag is written');
  for (const bytes of [4, 8, 12, 15]) {
    assert.throws(() => box.open(withTag(sealed, (t) => t.subarray(0, bytes))), /authentication tag/, `${bytes} bytes`);
  }
  assert.throws(
    () => box.open(withTag(sealed, (t) => Buffer.concat([t, Buffer.from([0])]))),
    /authentication tag/,
    '17 bytes',
  );
});

test('R2 T1 secret box: a changed body or tag is refused', () => {
  const sealed = box.seal('封をした本文');
  assert.throws(() => box.open(withTag(sealed, (t) => Buffer.from(t.map((b, i) => (i === 0 ? b ^ 1 : b))))));
  const parts = sealed.split('.');
  const body = Buffer.from(parts[3] ?? '', 'base64');
  body[0] = (body[0] ?? 0) ^ 1;
  parts[3] = body.toString('base64');
  assert.throws(() => box.open(parts.join('.')));
  assert.throws(() => box.open('v2.' + sealed.slice(3)), /unknown format/);
});
