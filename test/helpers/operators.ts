/**
 * Helpers for the operators' console tests (issue 4): operators inserted straight into the database (the CLI path
 * has its own test), logging in at /admin/login, and reading the console's tables.
 */
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/accounts/passwords.ts';
import { insertOperator } from '../../src/admin/operators.repository.ts';
import { randomId } from '../../src/security/tokens.ts';
import { resetRequestsDecided, type Client, type Page, type TestPortal } from './test-app.ts';

export type Role = 'admin' | 'support' | 'editor';

/** Satisfies the mhlw preset the CLI asks of operators (13+, letters, digits, symbol). */
export const OPERATOR_PASSWORD = 'Operator-Pass-2026!';

export interface TestOperator {
  username: string;
  password: string;
  role: Role;
  displayName: string;
}

let seq = 0;

/** Inserts an active operator of `role` (username `<role>-<n>` unless given). */
export async function createOperator(
  portal: TestPortal,
  role: Role,
  username = `${role}-${++seq}`,
  displayName = `${role}担当`,
): Promise<TestOperator> {
  const now = portal.clock.now();
  await insertOperator(portal.database.db, {
    id: randomId(),
    username,
    display_name: displayName,
    role,
    password_hash: await hashPassword(OPERATOR_PASSWORD),
    status: 'active',
    failed_logins: 0,
    locked_until: null,
    created_at: now,
    updated_at: now,
  });
  return { username, password: OPERATOR_PASSWORD, role, displayName };
}

/** Posts the console's login form; returns the answer (303 → /admin when it worked). */
export async function operatorLogin(client: Client, username: string, password: string): Promise<Page> {
  await client.get('/admin/login');
  return client.post('/admin/login', { username, password });
}

/** A client logged in to the console as `op` (asserts that the login worked), on the console's home page. */
export async function consoleAs(portal: TestPortal, op: TestOperator, ip?: string): Promise<Client> {
  const c = portal.client();
  if (ip) c.ip = ip;
  const r = await operatorLogin(c, op.username, op.password);
  assert.equal(r.status, 303, `operator ${op.username} could not log in: ${r.text.slice(0, 300)}`);
  assert.equal(r.location, '/admin');
  await c.get('/admin');
  return c;
}

/** The rows of the first table after the heading `heading` (or of the page's first table), cells as visible text. */
export function tableAfter(page: Page, heading?: string): string[][] {
  const at = heading === undefined ? page.body.indexOf('<main') : page.body.indexOf(`>${heading}</h2>`);
  if (at < 0) return [];
  const rest = page.body.slice(at);
  const next = rest.indexOf('<h2', 5);
  const section = next < 0 ? rest : rest.slice(0, next);
  const table = /<tbody>([\s\S]*?)<\/tbody>/.exec(section);
  if (!table) return [];
  return [...table[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...r[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) => visible(c[1]!)),
  );
}

/** Tags removed, entities decoded, spaces collapsed. */
export function visible(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

/** Audit rows with their actor, oldest first. */
export async function auditRows(portal: TestPortal, event?: string) {
  await resetRequestsDecided(portal.database.db);
  let q = portal.database.db.selectFrom('audit_log').selectAll().orderBy('seq');
  if (event) q = q.where('event', '=', event);
  return q.execute();
}

/** The detail of an audit row, parsed. */
export function detailOf(row: { detail: string | null }): Record<string, unknown> {
  return row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : {};
}

/** A tiny RFC 4180 reader for the console's CSV exports: quoted cells, "" inside them, CRLF between records. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
