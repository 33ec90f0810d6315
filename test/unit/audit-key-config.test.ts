/** H10: the audit key is a setting of its own, never derived from SESSION_SECRET and never stored in the database. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';

const SECRET = 'session-secret-session-secret-session-0123';

test('H10: AUDIT_KEY shorter than 32 characters stops the start with a line naming it', () => {
  assert.throws(
    () => loadConfig({ AUDIT_KEY: 'short', SESSION_SECRET: SECRET }, { persistSecret: false }),
    (err: unknown) => err instanceof ConfigError && err.message === 'AUDIT_KEY must be at least 32 characters',
  );
});

test('H10: AUDIT_KEY is used as given, whatever SESSION_SECRET is', () => {
  const key = 'audit-key-audit-key-audit-key-audit-key-01';
  const a = loadConfig({ AUDIT_KEY: key, SESSION_SECRET: SECRET }, { persistSecret: false });
  const b = loadConfig({ AUDIT_KEY: key, SESSION_SECRET: `${SECRET}-rotated` }, { persistSecret: false });
  assert.equal(a.auditKey, key);
  assert.equal(b.auditKey, key, 'rotating SESSION_SECRET leaves the audit key as it was');
});

test('H10: unset, the first start makes DATA_DIR/audit-key (mode 0600), the next start reads it; it is not the session secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iryo-audit-key-'));
  try {
    const first = loadConfig({ DATA_DIR: dir });
    const file = join(dir, 'audit-key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8').trim(), first.auditKey);
    assert.ok(first.auditKey.length >= 32);
    assert.notEqual(first.auditKey, first.sessionSecret);
    assert.equal(loadConfig({ DATA_DIR: dir }).auditKey, first.auditKey, 'read again, not made anew');
    assert.equal(
      loadConfig({ DATA_DIR: dir, SESSION_SECRET: SECRET }).auditKey,
      first.auditKey,
      'independent of SESSION_SECRET',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
