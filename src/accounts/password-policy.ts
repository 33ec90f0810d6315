/**
 * Password policies as named presets (P1). Lengths are counted in Unicode code points.
 * Every preset also rejects common passwords and ones that contain the username or user ID.
 */
export type PolicyName = 'portal' | 'mhlw' | 'nist';

/** Catalog keys of the rules a password can break, shown next to the field (C1). */
export type PolicyViolation =
  | 'policy.containsEmail'
  | 'policy.tooShort'
  | 'policy.tooLong'
  | 'policy.needUpper'
  | 'policy.needLower'
  | 'policy.needDigit'
  | 'policy.needLetter'
  | 'policy.needSymbol'
  | 'policy.common'
  | 'policy.containsUsername';

export interface Policy {
  name: PolicyName;
  min: number;
  max: number;
  /** Catalog key of the rule text shown before typing. */
  ruleKey: string;
  composition: (pw: string) => PolicyViolation[];
}

const has = (re: RegExp) => (pw: string) => re.test(pw);
const upper = has(/\p{Lu}/u);
const lower = has(/\p{Ll}/u);
const digit = has(/\p{Nd}/u);
const letter = has(/\p{L}/u);
const symbol = has(/[^\p{L}\p{Nd}\s]/u);

export const POLICIES: Record<PolicyName, Policy> = {
  portal: {
    name: 'portal',
    min: 8,
    max: 100,
    ruleKey: 'policy.rule.portal',
    composition: (pw) => [
      ...(upper(pw) ? [] : ['policy.needUpper' as const]),
      ...(lower(pw) ? [] : ['policy.needLower' as const]),
      ...(digit(pw) ? [] : ['policy.needDigit' as const]),
    ],
  },
  mhlw: {
    name: 'mhlw',
    min: 13,
    max: 100,
    ruleKey: 'policy.rule.mhlw',
    composition: (pw) => [
      ...(letter(pw) ? [] : ['policy.needLetter' as const]),
      ...(digit(pw) ? [] : ['policy.needDigit' as const]),
      ...(symbol(pw) ? [] : ['policy.needSymbol' as const]),
    ],
  },
  nist: { name: 'nist', min: 15, max: 100, ruleKey: 'policy.rule.nist', composition: () => [] },
};

let common: Set<string> | undefined;

/** The common-password list (about 49,000 entries), loaded on first use. */
async function commonPasswords(): Promise<Set<string>> {
  if (!common) {
    const mod = await import('@zxcvbn-ts/language-common');
    const list = (mod.dictionary as Record<string, string[]>)['passwords-common'] ?? [];
    common = new Set(list.map((p) => p.toLowerCase()));
  }
  return common;
}

/** Every rule the password breaks under the policy; empty when it is acceptable. */
export async function checkPassword(
  policy: Policy,
  password: string,
  identifiers: Array<string | null | undefined>,
  /** At registration the username does not exist yet: the e-mail address's local part stands in, named as such. */
  emailLocalPart?: string,
): Promise<PolicyViolation[]> {
  const length = [...password].length;
  const out: PolicyViolation[] = [];
  if (length < policy.min) out.push('policy.tooShort');
  if (length > policy.max) out.push('policy.tooLong');
  out.push(...policy.composition(password));
  const lowered = password.toLowerCase();
  if ((await commonPasswords()).has(lowered)) out.push('policy.common');
  for (const id of identifiers) {
    if (id && id.length >= 3 && lowered.includes(id.toLowerCase())) {
      out.push('policy.containsUsername');
      break;
    }
  }
  if (emailLocalPart && emailLocalPart.length >= 3 && lowered.includes(emailLocalPart.toLowerCase()))
    out.push('policy.containsEmail');
  return out;
}
