/**
 * The SMTP sink, in its own process so that receiving mail never slows the load generator. It accepts every
 * mail and counts it (parsing each one would make the sink, not the portal, the bottleneck); the first mail of
 * each count is parsed to check that what arrives is the portal's mail.
 * IPC: → { type: 'ready', port }; ← 'reset' | 'stats' → { type: 'stats', count, first, last, firstSubject }.
 */
import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

let count = 0;
let first = 0;
let last = 0;
let firstSubject = '';
const now = () => performance.timeOrigin + performance.now();

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  size: 1024 * 1024,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    const parse = count === 0;
    stream.on('data', (c: Buffer) => {
      if (parse) chunks.push(c);
    });
    stream.on('end', () => {
      const t = now();
      if (count === 0) first = t;
      last = t;
      count++;
      callback();
      if (parse)
        void simpleParser(Buffer.concat(chunks)).then((m) => {
          firstSubject = m.subject ?? '';
        });
    });
  },
});

server.listen(0, '127.0.0.1', () => {
  const { port } = (server as unknown as { server: { address(): { port: number } } }).server.address();
  process.send!({ type: 'ready', port });
});

process.on('message', (m) => {
  if (m === 'reset') {
    count = 0;
    first = 0;
    last = 0;
    firstSubject = '';
  } else if (m === 'stats') {
    process.send!({ type: 'stats', count, first, last, firstSubject });
  }
});
process.on('disconnect', () => process.exit(0));
