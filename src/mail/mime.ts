/**
 * The portal's mails as MIME text a person can read: one text/plain UTF-8 part sent as 8bit, so that the .eml
 * file opened in a text editor (or the raw mail on a server) shows the Japanese words and every link whole.
 *
 * Why not quoted-printable: QP writes each Japanese character as =E3=81=82…, turns the `=` of `sysparm_tiny=`
 * into `=3D` and cuts lines at 76 characters with a soft break (`=` at the line end), which splits the reset link:
 * copied from the file it no longer works. 8bit needs lines of at most 998 octets (RFC 5322 §2.1.1); a text with a
 * longer line (or a bare CR, or NUL) falls back to quoted-printable rather than be cut.
 */
import MimeNode from 'nodemailer/lib/mime-node';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';

export interface MailToCompose {
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
}

export type BodyEncoding = '7bit' | '8bit' | 'quoted-printable';

/** RFC 5321/5322: a line is at most 998 octets before its CRLF. */
const MAX_LINE_OCTETS = 998;

/** How the body is written: 7bit for plain ASCII, 8bit for UTF-8 text with short lines, QP otherwise. */
export function bodyEncoding(text: string): BodyEncoding {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (/[\0\r]/.test(text.replace(/\r\n/g, '\n'))) return 'quoted-printable';
  if (lines.some((l) => Buffer.byteLength(l, 'utf8') > MAX_LINE_OCTETS)) return 'quoted-printable';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: 7bit means every character is in 0x00-0x7f.
  return /^[\x00-\x7f]*$/.test(text) ? '7bit' : '8bit';
}

/**
 * The whole message (headers and body) with CRLF line ends, and how its body was encoded.
 * Headers stay 7-bit (RFC 2047 encoded words for the Japanese subject) so that any SMTP server takes them.
 */
export function composeMail(mail: MailToCompose, date = new Date()): { raw: string; encoding: BodyEncoding } {
  const domain = mail.from.split('@')[1] ?? 'localhost';
  // A node without content gets no Content-Transfer-Encoding from nodemailer: the body and its encoding are ours.
  const head = new MimeNode('text/plain; charset=utf-8');
  head.setHeader('Date', date.toUTCString().replace(/GMT/, '+0000'));
  head.setHeader('From', mail.from);
  head.setHeader('To', mail.to);
  head.setHeader('Subject', mail.subject);
  // Stable per outbox row: a mail delivered twice (an instance killed between the SMTP reply and the
  // database update) carries the same Message-ID, so receivers can drop the copy.
  head.setHeader('Message-ID', `<${mail.id}@${domain}>`);
  head.setHeader('Auto-Submitted', 'auto-generated');
  head.setHeader('X-Portal-Mail-Id', mail.id);
  const encoding = bodyEncoding(mail.text);
  const text = mail.text.replace(/\r\n/g, '\n');
  const body =
    encoding === 'quoted-printable' ? qpWrap(qpEncode(text.replace(/\n/g, '\r\n')), 76) : text.replace(/\n/g, '\r\n');
  const raw = `${head.buildHeaders()}\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${body}${body.endsWith('\r\n') ? '' : '\r\n'}`;
  return { raw, encoding };
}
