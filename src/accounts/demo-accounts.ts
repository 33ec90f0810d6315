/** On the very first start, demo accounts so that a newcomer can walk the whole journey at once. */
import type { Db } from '../db/database.ts';
import type { Policy } from './password-policy.ts';
import { createUser } from './create-user.ts';
import { countUsers } from './users.repository.ts';
import { randomAlnum } from '../security/tokens.ts';

export interface DemoAccount {
  kind: string;
  login: string;
  email: string;
  password: string;
}

/** A password that every preset accepts: upper, lower, digits, a symbol, 20 characters. */
function demoPassword(): string {
  return `Iryo-${randomAlnum(12)}-7k`;
}

export async function createDemoAccountsIfEmpty(db: Db, policy: Policy, now: number): Promise<DemoAccount[]> {
  if ((await countUsers(db)) > 0) return [];
  const specs = [
    {
      kind: '一般ユーザー (institution user)',
      login: 'demo',
      input: {
        username: 'demo',
        email: 'demo@example.jp',
        displayName: '厚労 太郎',
        institutionName: 'デモ医科診療所',
        institutionCode: '3410712362',
        phone: '03-5555-0101',
      },
    },
    {
      kind: '取りまとめ者 (coordinator, log in with the user ID)',
      login: 'c0000001',
      input: {
        username: 'demo-coordinator',
        email: 'coordinator@example.jp',
        displayName: '労働 花子',
        institutionName: 'デモ医療法人',
        coordinator: true,
        userId: 'c0000001',
        phone: '03-5555-0102',
      },
    },
    {
      kind: '仮アカウント (provisional: reset sends no mail)',
      login: 'demo-provisional',
      input: {
        username: 'demo-provisional',
        email: 'demo@01',
        displayName: '保険 次郎',
        institutionName: 'デモ薬局',
        institutionCode: '4013104569',
        phone: '03-5555-0103',
      },
    },
  ];
  const out: DemoAccount[] = [];
  for (const spec of specs) {
    const password = demoPassword();
    try {
      const r = await createUser(db, policy, now, { ...spec.input, password });
      if (r.ok) out.push({ kind: spec.kind, login: spec.login, email: spec.input.email, password });
    } catch {
      // Another instance starting at the same moment created it first: nothing to show here.
    }
  }
  return out;
}
