/** Where mail goes: an SMTP server (SMTP_URL) or, without one, .eml files under data/outbox/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { composeMail } from './mime.ts';

export interface OutgoingMail {
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
}

export interface MailTransport {
  /** Delivers or throws; the error message is kept in the outbox for operators. */
  send(mail: OutgoingMail): Promise<{ where: string }>;
  describe(): string;
  close(): void;
}

/**
 * What nodemailer sends: our own composed message (8bit UTF-8, see mime.ts). BODY=8BITMIME is announced to a server
 * that offers it (nodemailer does not do so for raw messages by itself).
 */
function message(mail: OutgoingMail) {
  return { raw: composeMail(mail).raw, envelope: { from: mail.from, to: [mail.to], use8BitMime: true } };
}

export function createSmtpTransport(url: string): MailTransport {
  // A small pool keeps connections open between mails (throughput) while several instances share the server.
  const pooled = /[?&]pool=/.test(url)
    ? url
    : `${url}${url.includes('?') ? '&' : '?'}pool=true&maxConnections=2&maxMessages=100`;
  const transporter = nodemailer.createTransport(pooled);
  const safe = url.replace(/\/\/[^@/]*@/, '//***@');
  return {
    async send(mail) {
      await transporter.sendMail(message(mail));
      return { where: safe };
    },
    describe: () => `SMTP ${safe}`,
    close: () => transporter.close(),
  };
}

/**
 * Development outbox: each mail becomes an .eml file that any mail program or a text editor opens (8bit UTF-8,
 * LF line ends: the words and the links read as they are). /dev/mail lists them (dev-mail.routes.tsx).
 */
export function createFileTransport(dir: string): MailTransport {
  return {
    async send(mail) {
      mkdirSync(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = join(dir, `${stamp}-${mail.id}.eml`);
      writeFileSync(file, composeMail(mail).raw.replace(/\r\n/g, '\n'), { mode: 0o600 });
      return { where: file };
    },
    describe: () => `files in ${dir}`,
    close: () => undefined,
  };
}
