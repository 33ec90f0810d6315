/** The password presets (P1): lengths in code points, composition, common passwords, the username. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPassword, POLICIES } from '../../src/accounts/password-policy.ts';

const { portal, mhlw, nist } = POLICIES;

test('P1 portal (default): upper, lower and digit, 8 to 100', async () => {
  assert.deepEqual(await checkPassword(portal, 'Kanri2026Pass', []), []);
  assert.deepEqual(await checkPassword(portal, 'abc', []), ['policy.tooShort', 'policy.needUpper', 'policy.needDigit']);
  assert.deepEqual(await checkPassword(portal, 'KANRI2026PASS', []), ['policy.needLower']);
  assert.deepEqual(await checkPassword(portal, 'Ab3defgh', []), [], 'exactly 8');
  assert.deepEqual(await checkPassword(portal, 'Ab3defg', []), ['policy.tooShort'], '7 is too short');
  const hundred = 'Ab3' + 'x'.repeat(97);
  assert.deepEqual(await checkPassword(portal, hundred, []), [], 'exactly 100');
  assert.deepEqual(await checkPassword(portal, hundred + 'x', []), ['policy.tooLong'], '101 is too long');
});

test('P1 mhlw: letters, digits and symbols, 13 to 100', async () => {
  assert.equal(mhlw.min, 13);
  assert.deepEqual(await checkPassword(mhlw, 'sakura-hana-26', []), []);
  assert.deepEqual(await checkPassword(mhlw, 'sakura-26-ha', []), ['policy.tooShort'], '12 characters');
  assert.deepEqual(await checkPassword(mhlw, 'sakurahana2026', []), ['policy.needSymbol']);
  assert.deepEqual(await checkPassword(mhlw, '1234-5678-9012', []), ['policy.needLetter']);
  assert.deepEqual(await checkPassword(mhlw, 'sakura-hana-ha', []), ['policy.needDigit']);
});

test('P1 nist: 15 to 100, no composition rules', async () => {
  assert.equal(nist.min, 15);
  assert.deepEqual(await checkPassword(nist, 'a quiet morning walk', []), []);
  assert.deepEqual(await checkPassword(nist, 'abcdefghijklmno', []), [], '15 lower-case letters are enough');
  assert.deepEqual(await checkPassword(nist, 'abcdefghijklmn', []), ['policy.tooShort']);
});

test('P1: lengths are counted in Unicode code points, not UTF-16 units', async () => {
  const kanji = '𠮷'; // one code point, two UTF-16 units
  assert.equal(kanji.repeat(14).length, 28);
  assert.deepEqual(await checkPassword(nist, kanji.repeat(14), []), ['policy.tooShort']);
  assert.deepEqual(await checkPassword(nist, kanji.repeat(15), []), []);
  assert.deepEqual(await checkPassword(nist, kanji.repeat(100), []), [], '100 code points (200 units) are allowed');
  assert.deepEqual(await checkPassword(nist, kanji.repeat(101), []), ['policy.tooLong']);
  assert.deepEqual(await checkPassword(nist, 'ひまわり畑で朝の散歩をする日曜', []), [], '15 Japanese characters');
});

test('P1: every preset refuses common passwords, whatever their case', async () => {
  for (const policy of [portal, mhlw, nist]) {
    assert.ok((await checkPassword(policy, 'Password123', [])).includes('policy.common'), policy.name);
    assert.ok((await checkPassword(policy, 'PASSWORD123', [])).includes('policy.common'), `${policy.name}, upper case`);
  }
  assert.deepEqual(
    await checkPassword(portal, 'Password123', []),
    ['policy.common'],
    'only that rule for the portal preset',
  );
  assert.ok(!(await checkPassword(portal, 'Sakura2026Hana', [])).includes('policy.common'));
});

test('P1: every preset refuses a password that contains the username or user ID (any case)', async () => {
  for (const policy of [portal, mhlw, nist]) {
    const pw = 'My-Clinic01-Password-2026';
    assert.ok(
      (await checkPassword(policy, pw, ['clinic01', null])).includes('policy.containsUsername'),
      `${policy.name}: username`,
    );
    assert.ok(
      (await checkPassword(policy, pw, ['someone', 'clinic01'])).includes('policy.containsUsername'),
      `${policy.name}: user ID`,
    );
    assert.ok(
      !(await checkPassword(policy, pw, ['someone', 'kanri99'])).includes('policy.containsUsername'),
      `${policy.name}: other names`,
    );
  }
});

test('P1: at registration (no username yet) a password containing the e-mail local part is refused under its own rule, not as "the username"', async () => {
  const refused = await checkPassword(portal, 'Hanako8Walk2026x', [], 'walk');
  assert.ok(refused.includes('policy.containsEmail'));
  assert.ok(
    !refused.includes('policy.containsUsername'),
    'the message names the e-mail address, not a username the person has not got',
  );
  assert.deepEqual(await checkPassword(portal, 'Hanako8Walk2026x', [], 'sakura'), []);
});
