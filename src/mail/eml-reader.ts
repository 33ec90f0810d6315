/**
 * Reads the .eml files of the development outbox back for /dev/mail: headers (RFC 2047 encoded words decoded) and
 * the text body (8bit, 7bit, quoted-printable or base64 — files written before the mails were 8bit are base64).
 * Only what the portal writes is expected: one text part. A multipart file shows its body as it is.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface EmlSummary {
  file: string;
  /** Epoch ms: the Date header, else the file's modification time. */
  at: number;
  from: string;
  to: string;
  subject: string;
}

export interface EmlMessage extends EmlSummary {
  text: string;
}

/** The outbox's file names look like 2026-12-01T10-20-30-123Z-<id>.eml; nothing else is ever opened. */
const FILE_NAME = /^[A-Za-z0-9_-]+\.eml$/;

function decoderFor(charset: string): TextDecoder {
  try {
    return new TextDecoder(charset || 'utf-8');
  } catch {
    return new TextDecoder('utf-8');
  }
}

/** Decodes =?charset?B|Q?…?= words; whitespace between two encoded words is dropped (RFC 2047 §6.2). */
export function decodeHeaderValue(value: string): string {
  const word = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1')
    .replace(word, (_all, charset: string, kind: string, data: string) => {
      const bytes =
        kind.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : Buffer.from(
              data
                .replace(/_/g, ' ')
                .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
              'latin1',
            );
      return decoderFor(charset.split('*')[0]!).decode(bytes);
    });
}

function decodeQuotedPrintable(body: Buffer): Buffer {
  const s = body.toString('latin1').replace(/=\r?\n/g, '');
  return Buffer.from(
    s.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
}

/** Splits a raw message into unfolded headers (lower-case names) and the body bytes. */
export function parseEml(raw: Buffer): { headers: Map<string, string>; text: string } {
  let end = raw.indexOf('\r\n\r\n');
  let sep = 4;
  const lf = raw.indexOf('\n\n');
  if (end < 0 || (lf >= 0 && lf < end)) {
    end = lf;
    sep = 2;
  }
  const head = end < 0 ? raw.toString('utf8') : raw.subarray(0, end).toString('utf8');
  const body = end < 0 ? Buffer.alloc(0) : raw.subarray(end + sep);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) {
      const name = line.slice(0, i).trim().toLowerCase();
      if (!headers.has(name)) headers.set(name, line.slice(i + 1).trim());
    }
  }
  const cte = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const charset = /charset="?([^";\s]+)"?/i.exec(headers.get('content-type') ?? '')?.[1] ?? 'utf-8';
  const bytes =
    cte === 'base64'
      ? Buffer.from(body.toString('latin1'), 'base64')
      : cte === 'quoted-printable'
        ? decodeQuotedPrintable(body)
        : body;
  return { headers, text: decoderFor(charset).decode(bytes).replace(/\r\n/g, '\n') };
}

function summaryOf(dir: string, file: string, raw: Buffer): EmlMessage {
  const { headers, text } = parseEml(raw);
  const date = Date.parse(headers.get('date') ?? '');
  return {
    file,
    at: Number.isNaN(date) ? statSync(join(dir, file)).mtimeMs : date,
    from: decodeHeaderValue(headers.get('from') ?? ''),
    to: decodeHeaderValue(headers.get('to') ?? ''),
    subject: decodeHeaderValue(headers.get('subject') ?? ''),
    text,
  };
}

function emlFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => FILE_NAME.test(f));
  } catch {
    return []; // no mail written yet: the directory does not exist
  }
}

/** The newest `limit` mails of the outbox, newest first (the file names start with their UTC time). */
export function listOutbox(dir: string, limit = 200): EmlSummary[] {
  return emlFiles(dir)
    .sort()
    .reverse()
    .slice(0, limit)
    .map((file) => {
      const { text: _text, ...summary } = summaryOf(dir, file, readFileSync(join(dir, file)));
      return summary;
    });
}

/** One mail of the outbox by its file name, or undefined (never a path outside the directory). */
export function readOutboxMail(dir: string, file: string): EmlMessage | undefined {
  if (!FILE_NAME.test(file) || !emlFiles(dir).includes(file)) return undefined;
  return summaryOf(dir, file, readFileSync(join(dir, file)));
}
