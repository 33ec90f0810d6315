/** Where mail goes: an SMTP server (SMTP_URL) or, without one, .eml files under data/outbox/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';

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

function message(mail: OutgoingMail) {
  const domain = mail.from.split('@')[1] ?? 'localhost';
  return {
    // Stable per outbox row: a mail delivered twice (an instance killed between the SMTP reply and the
    // database update) carries the same Message-ID, so receivers can drop the copy.
    messageId: `<${mail.id}@${domain}>`,
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Portal-Mail-Id': mail.id },
  };
}

export function createSmtpTransport(url: string): MailTransport {
  // A small pool keeps connections open between mails (throughput) while several instances share the server.
  const pooled = /[?&]pool=/.test(url) ? url : `${url}${url.includes('?') ? '&' : '?'}pool=true&maxConnections=2&maxMessages=100`;
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

/** Development outbox: each mail becomes an .eml file that any mail program (or a text editor) opens. */
export function createFileTransport(dir: string): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(mail) {
      mkdirSync(dir, { recursive: true });
      const info = await transporter.sendMail(message(mail));
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = join(dir, `${stamp}-${mail.id}.eml`);
      writeFileSync(file, info.message as Buffer, { mode: 0o600 });
      return { where: file };
    },
    describe: () => `files in ${dir}`,
    close: () => transporter.close(),
  };
}
