/** A real SMTP server (smtp-server + mailparser) that keeps what it receives; can be stopped and started again. */
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  headers: ParsedMail['headers'];
  raw: string;
  /** The MAIL FROM parameters, e.g. { BODY: '8BITMIME' }. */
  mailFromArgs: Record<string, string> | false;
}

export interface SmtpSink {
  port: number;
  url: string;
  mails: ReceivedMail[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves with the first mail matching `pred` (waits up to `ms`). */
  waitFor(pred: (m: ReceivedMail) => boolean, ms?: number): Promise<ReceivedMail>;
  clear(): void;
}

export async function startSmtpSink(port = 0): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  let server: SMTPServer | undefined;
  let boundPort = port;
  const make = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const parsed = await simpleParser(raw);
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            headers: parsed.headers,
            raw,
            mailFromArgs: session.envelope.mailFrom
              ? (session.envelope.mailFrom.args as Record<string, string> | false)
              : false,
          });
          callback();
        });
      },
    });
  const sink: SmtpSink = {
    get port() {
      return boundPort;
    },
    get url() {
      return `smtp://127.0.0.1:${boundPort}`;
    },
    mails,
    async start() {
      server = make();
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(boundPort, '127.0.0.1', () => {
          const addr = (server as unknown as { server: { address(): { port: number } } }).server.address();
          boundPort = addr.port;
          resolve();
        });
      });
    },
    async stop() {
      if (!server) return;
      const s = server;
      server = undefined;
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async waitFor(pred, ms = 10_000) {
      const until = Date.now() + ms;
      for (;;) {
        const m = mails.find(pred);
        if (m) return m;
        if (Date.now() > until) throw new Error(`no matching mail within ${ms} ms (received ${mails.length})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    clear() {
      mails.length = 0;
    },
  };
  await sink.start();
  return sink;
}
