/**
 * The 医療機関コード validator (issue 3 §1; B1: every rule broken is named). The check digit is recomputed here
 * from PRODUCT.md's wording, independently of src/, and every one-digit mutation of the valid codes is tried.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkDigitOf,
  normalizeInstitutionCode,
  validateInstitutionCode,
  type InstitutionCodeProblem,
} from '../../src/accounts/institution-code.ts';

/** PRODUCT.md: weights 2,1,2,… from the rightmost body digit, digits of each product added, (10 − sum mod 10) mod 10. */
function specCheckDigit(body: string): number {
  const digits = [...body].reverse().map(Number);
  const sum = digits.reduce((acc, d, i) => {
    const p = d * (i % 2 === 0 ? 2 : 1);
    return (
      acc +
      String(p)
        .split('')
        .reduce((a, c) => a + Number(c), 0)
    );
  }, 0);
  return (10 - (sum % 10)) % 10;
}

/** What the specified rules say about a 10-digit code, in the validator's order. */
function specProblems(code: string): InstitutionCodeProblem[] {
  const out: InstitutionCodeProblem[] = [];
  const pref = Number(code.slice(0, 2));
  if (pref < 1 || pref > 47) out.push('prefecture');
  if (!'134'.includes(code[2]!)) out.push('table');
  if (specCheckDigit(code.slice(0, 9)) !== Number(code[9])) out.push('checkDigit');
  return out;
}

const PRODUCT_CODES = ['3410712362', '0110113719'];
const MORE_VALID = ['1310123458', '2714001233', '0140113713', '4013104569', '1313107896'];

describe('institution code: check digit and valid codes', () => {
  test('B1: PRODUCT.md example — body 341071236 has check digit 2 (both the spec reading and checkDigitOf)', () => {
    assert.equal(specCheckDigit('341071236'), 2);
    assert.equal(checkDigitOf('341071236'), 2);
    assert.equal(checkDigitOf('011011371'), 9);
  });

  test('B1: the valid codes of PRODUCT.md and of the sample data give no problem', () => {
    for (const code of [...PRODUCT_CODES, ...MORE_VALID]) {
      assert.deepEqual(specProblems(code), [], `${code} is valid by the spec`);
      assert.deepEqual(validateInstitutionCode(code), [], `${code} is accepted`);
    }
  });

  test('B1: checkDigitOf agrees with the spec on every body of a sweep (all 10 digits in every position)', () => {
    for (let pos = 0; pos < 9; pos++) {
      for (let d = 0; d <= 9; d++) {
        const body = `341071236`.slice(0, pos) + d + `341071236`.slice(pos + 1);
        assert.equal(checkDigitOf(body), specCheckDigit(body), body);
      }
    }
  });
});

describe('institution code: one-digit mutations of the valid codes', () => {
  for (const code of PRODUCT_CODES) {
    test(`B1: every one-digit change of ${code} (10 positions × 9 digits) is rejected, with exactly the rules it breaks`, () => {
      const undetected: string[] = [];
      let tried = 0;
      for (let pos = 0; pos < 10; pos++) {
        for (let d = 0; d <= 9; d++) {
          if (String(d) === code[pos]) continue;
          const mutant = code.slice(0, pos) + d + code.slice(pos + 1);
          tried++;
          const got = validateInstitutionCode(mutant);
          assert.deepEqual(got, specProblems(mutant), `${mutant} (position ${pos + 1} → ${d})`);
          if (got.length === 0) undetected.push(mutant);
          // The weighted digit sum maps every digit to a different value (a permutation), so the
          // check digit alone already catches every single change, whatever else breaks.
          assert.ok(got.includes('checkDigit'), `${mutant}: the check digit catches the change`);
        }
      }
      assert.equal(tried, 90);
      assert.deepEqual(undetected, [], `mutations not detected: ${undetected.join(', ')}`);
    });
  }

  test('B1: a mutation in the prefecture or table digit names that rule as well as the check digit', () => {
    assert.deepEqual(validateInstitutionCode('5410712362'), ['prefecture', 'checkDigit']); // 54: no such prefecture
    assert.deepEqual(validateInstitutionCode('0010113719'), ['prefecture', 'checkDigit']); // 0110113719 → 00
    assert.deepEqual(validateInstitutionCode('3420712362'), ['table', 'checkDigit']); // 2 is not 1/3/4
    assert.deepEqual(validateInstitutionCode('3410712363'), ['checkDigit']); // only the last digit
  });
});

describe('institution code: each rule on its own', () => {
  const withCheck = (body: string) => body + checkDigitOf(body);

  test('B1: prefecture 01 and 47 are accepted; 00, 48 and 99 are named "prefecture" (check digit made right)', () => {
    assert.deepEqual(validateInstitutionCode(withCheck('011011371')), []);
    assert.deepEqual(validateInstitutionCode(withCheck('471011371')), []);
    for (const pref of ['00', '48', '99'])
      assert.deepEqual(validateInstitutionCode(withCheck(`${pref}1011371`)), ['prefecture'], pref);
  });

  test('B1: table 1, 3 and 4 are accepted; every other digit is named "table"', () => {
    for (const t of '0123456789') {
      const code = withCheck(`34${t}071236`);
      assert.deepEqual(validateInstitutionCode(code), '134'.includes(t) ? [] : ['table'], code);
    }
  });

  test('B1: several rules broken at once are all named, in field order', () => {
    assert.deepEqual(validateInstitutionCode('9920712360'), specProblems('9920712360'));
    assert.deepEqual(validateInstitutionCode('9920712360'), ['prefecture', 'table', 'checkDigit']);
  });

  test('B1: anything but exactly 10 ASCII digits is "format" only', () => {
    for (const bad of [
      '',
      '341071236',
      '34107123620',
      '341071236a',
      '3410-712362',
      ' 3410712362',
      '３４１０７１２３６２',
    ]) {
      assert.deepEqual(validateInstitutionCode(bad), ['format'], JSON.stringify(bad));
    }
  });

  test('B1: what a person types (full-width digits, spaces, hyphens) is normalised to the 10 digits', () => {
    assert.equal(normalizeInstitutionCode('３４１０７１２３６２'), '3410712362');
    assert.equal(normalizeInstitutionCode(' 34-1-07-1236-2 '), '3410712362');
    assert.equal(normalizeInstitutionCode('34 1 07 1236 2'), '3410712362');
    assert.deepEqual(validateInstitutionCode(normalizeInstitutionCode('３４１０７１２３６２')), []);
  });
});
