/** D1: how a mail's body is written (8bit, 7bit, QP fallback for lines over 998 octets) and read back for /dev/mail. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { simpleParser } from 'mailparser';
import { composeMail } from '../../src/mail/mime.ts';
import { decodeHeaderValue, parseEml } from '../../src/mail/eml-reader.ts';

const base = {
  id: 'm-1',
  from: 'from@mail.iryohokenjyohoportalsite.jp',
  to: 'a@example.jp',
  subject: '【医療機関等向け総合ポータルサイト】パスワード変更用URL',
};
const LINK = 'https://portal.example.jp/passwordreset.do?sysparm_tiny=AbCdEfGhIjKlMnOpQrStUvWxYz012345';

test('D1: Japanese text with short lines is 8bit: the words and the link stand as written; mail programs read it back', async () => {
  const text = `パスワード変更用は以下からお願いいたします。\n${LINK}\n※本URLの有効期限は1時間となります。\n`;
  const { raw, encoding } = composeMail({ ...base, text });
  assert.equal(encoding, '8bit');
  assert.ok(raw.includes(`\r\n${LINK}\r\n`) && raw.includes('※本URLの有効期限は1時間となります。'));
  assert.match(raw, /^Message-ID: <m-1@mail\.iryohokenjyohoportalsite\.jp>\r$/m);
  assert.match(raw, /^Auto-Submitted: auto-generated\r$/m);
  const parsed = await simpleParser(raw);
  assert.equal(parsed.subject, base.subject);
  assert.equal(parsed.text, text);
  assert.equal(parseEml(Buffer.from(raw)).text, text, 'and so does /dev/mail');
});

test('D1: ASCII text is 7bit; a line over 998 octets (or a bare CR) falls back to quoted-printable and still decodes to the same text', async () => {
  assert.equal(composeMail({ ...base, text: `Hello\n${LINK}\n` }).encoding, '7bit');
  for (const text of [`短い行\n${'あ'.repeat(333)}\n${LINK}\n`, 'a\rb\n']) {
    const { raw, encoding } = composeMail({ ...base, text });
    assert.equal(encoding, 'quoted-printable');
    assert.ok(raw.split('\r\n').every((l) => Buffer.byteLength(l) <= 998));
    assert.equal((await simpleParser(raw)).text?.replace(/\r/g, ''), text.replace(/\r/g, ''));
    assert.equal(parseEml(Buffer.from(raw)).text.replace(/\r/g, ''), text.replace(/\r/g, ''));
  }
});

test("D2: /dev/mail also reads the base64 .eml files written before (nodemailer's own choice for Japanese text)", async () => {
  const text = `本文です。\n${LINK}\n`;
  const info = await nodemailer
    .createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
    .sendMail({ ...base, text, textEncoding: 'base64' });
  const old = info.message as Buffer;
  assert.match(old.toString(), /Content-Transfer-Encoding: base64/);
  const { headers, text: read } = parseEml(old);
  assert.equal(read, text);
  assert.equal(decodeHeaderValue(headers.get('subject')!), base.subject);
  assert.equal(decodeHeaderValue('=?UTF-8?Q?=E4=BB=B6=E5=90=8D_A?= =?UTF-8?B?5pys5paH?='), '件名 A本文');
});
