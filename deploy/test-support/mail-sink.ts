/**
 * A throwaway SMTP server for deploy/test-deployment.sh (a development tool: smtp-server and mailparser are
 * devDependencies). Usage: node --import tsx deploy/test-support/mail-sink.ts PORT DIR
 * Each mail received is written as DIR/NNNN.txt: "To: …", "Subject: …", a blank line, then the text body.
 * It prints "listening on PORT" once it accepts connections, and stops on SIGTERM.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const [portArg, dir] = process.argv.slice(2);
if (!portArg || !dir || !/^\d+$/.test(portArg)) {
  console.error('Usage: mail-sink.ts PORT DIR');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
let count = 0;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      simpleParser(Buffer.concat(chunks)).then(
        (mail) => {
          const name = String(++count).padStart(4, '0');
          const to = session.envelope.rcptTo.map((r) => r.address).join(', ');
          // Written under a temporary name and renamed: a reader never sees half a mail.
          const tmp = join(dir, `.${name}.tmp`);
          writeFileSync(tmp, `To: ${to}\nSubject: ${mail.subject ?? ''}\n\n${mail.text ?? ''}`);
          renameSync(tmp, join(dir, `${name}.txt`));
          callback();
        },
        (err: Error) => callback(err),
      );
    });
  },
});

server.listen(Number(portArg), '127.0.0.1', () => console.log(`listening on ${portArg}`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.close(() => process.exit(0)));
