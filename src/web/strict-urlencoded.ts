/**
 * A strict reader of application/x-www-form-urlencoded text, for form bodies and query strings (S9, B1).
 * The usual parsers decode leniently: `%E3%81%ZZ%` reaches the handler as some string, and a NUL byte reaches
 * the database (PostgreSQL refuses it with a 500). Here broken percent-encoding, invalid UTF-8 and control
 * characters (other than tab and line breaks) make the whole input unreadable; the caller answers 400.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.ts';

export type UrlencodedValues = Record<string, string | string[]>;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const BROKEN_PERCENT = /%(?![0-9A-Fa-f]{2})/;
// Tab, LF and CR are typed into text areas; every other C0 control, and DEL, is never typed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's purpose.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

function decodeComponent(raw: string): string | null {
  if (BROKEN_PERCENT.test(raw)) return null;
  try {
    const v = decodeURIComponent(raw.replace(/\+/g, ' '));
    return CONTROL.test(v) ? null : v;
  } catch {
    return null; // a percent sequence that is not UTF-8
  }
}

/**
 * Parses `a=1&b=2` into a prototype-less object (a name sent twice gives an array, which readForm refuses);
 * null when any part is unreadable.
 */
export function parseUrlencodedStrict(input: string | Buffer): UrlencodedValues | null {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = utf8.decode(input);
    } catch {
      return null; // raw bytes that are not UTF-8
    }
  }
  const out: UrlencodedValues = Object.create(null);
  if (text === '') return out;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1));
    if (name === null || value === null) return null;
    const had = out[name];
    out[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return out;
}

/** Marks a query string that could not be read; the hook below turns it into a 400 once the page's language is known. */
const UNREADABLE = Symbol('unreadable query');

/** Fastify's querystringParser: never throws while routing; an unreadable query is marked. */
export function parseQueryStrict(query: string): UrlencodedValues {
  const parsed = parseUrlencodedStrict(query);
  if (parsed) return parsed;
  const marked: UrlencodedValues = Object.create(null);
  Object.defineProperty(marked, UNREADABLE, { value: true });
  return marked;
}

/**
 * Replaces the form-body parser with the strict one and refuses unreadable query strings. Call after the request
 * context (language) is installed, so that the 400 page speaks the page's language.
 */
export function installStrictUrlencoded(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_request, body, done) => {
    const parsed = parseUrlencodedStrict(body as Buffer);
    if (parsed) done(null, parsed);
    else done(new HttpError('BAD_ENCODING', 'form body is not readable'), undefined);
  });
  app.addHook('onRequest', async (request) => {
    const q = request.query as Record<PropertyKey, unknown> | undefined;
    if (q && q[UNREADABLE]) throw new HttpError('BAD_ENCODING', 'query string is not readable');
  });
}
