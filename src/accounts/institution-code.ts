/**
 * 医療機関コード (10 digits): 都道府県番号 (2) + 点数表番号 (1: 1 医科, 3 歯科, 4 薬局) + 郡市区番号 (2)
 * + 医療機関番号 (4) + 検証番号 (1).
 */

export type InstitutionCodeProblem = 'format' | 'prefecture' | 'table' | 'checkDigit';

/**
 * The check digit of the 9 body digits: weights 2,1,2,… from the rightmost digit, the digits of each
 * product added up, then (10 − sum mod 10) mod 10. 341071236 → 2.
 */
export function checkDigitOf(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const digit = Number(body[body.length - 1 - i]);
    const product = digit * (i % 2 === 0 ? 2 : 1);
    sum += Math.floor(product / 10) + (product % 10);
  }
  return (10 - (sum % 10)) % 10;
}

/** Normalises what a person typed (full-width digits, spaces, hyphens) to 10 ASCII digits if it can. */
export function normalizeInstitutionCode(input: string): string {
  return input.normalize('NFKC').replace(/[\s-]/g, '');
}

/** Every rule the code breaks; empty when valid. */
export function validateInstitutionCode(code: string): InstitutionCodeProblem[] {
  if (!/^\d{10}$/.test(code)) return ['format'];
  const problems: InstitutionCodeProblem[] = [];
  const pref = Number(code.slice(0, 2));
  if (pref < 1 || pref > 47) problems.push('prefecture');
  if (!['1', '3', '4'].includes(code[2]!)) problems.push('table');
  if (checkDigitOf(code.slice(0, 9)) !== Number(code[9])) problems.push('checkDigit');
  return problems;
}
