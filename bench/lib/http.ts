/** A small keep-alive HTTP client for setup and for the one-at-a-time timing samples. */
import http from 'node:http';

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** From the first byte written to the last byte read, in milliseconds. */
  ms: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

export function send(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  o: { cookie?: string; form?: Record<string, string> } = {},
): Promise<Response> {
  const url = new URL(path, base);
  const body = o.form ? new URLSearchParams(o.form).toString() : undefined;
  const headers: http.OutgoingHttpHeaders = { 'user-agent': 'iryo-bench/1.0' };
  if (o.cookie) headers.cookie = o.cookie;
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `name=value` of a Set-Cookie header (lists or single values, any case of header name). */
export function cookieFrom(headers: Record<string, unknown>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== 'set-cookie') continue;
    for (const line of Array.isArray(v) ? v : [v]) {
      const pair = String(line).split(';')[0]!;
      if (pair.startsWith(`${name}=`)) return pair;
    }
  }
  return undefined;
}

export function headerOf(headers: Record<string, unknown>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers))
    if (k.toLowerCase() === name) return String(Array.isArray(v) ? v[0] : v);
  return undefined;
}

export interface Csrf {
  /** `csrf=…` (the signed secret cookie). */
  cookie: string;
  /** The `_csrf` field of a form rendered for that cookie (the token is not single-use). */
  token: string;
}

/** Opens the login page as a first-time visitor and keeps the CSRF cookie and token it hands out. */
export async function fetchCsrf(base: string): Promise<Csrf> {
  const res = await send(base, 'GET', '/login');
  const cookie = cookieFrom(res.headers as Record<string, unknown>, 'csrf');
  const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
  if (res.status !== 200 || !cookie || !token)
    throw new Error(`GET /login gave no CSRF cookie and token (status ${res.status})`);
  return { cookie, token };
}

export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}
