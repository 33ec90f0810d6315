/** The contact block that closes every mail (configuration: MAIL_CONTACT, CALL_CENTER_PHONE). */
export const CONTACT_LINES: Record<'ja' | 'en', string[]> = {
  ja: [
    '社会保険診療報酬支払基金（情報化企画部・情報化支援部）',
    '国民健康保険中央会（番号制度対策本部）',
    'オンライン資格確認・医療情報化支援基金関係',
    'オンライン資格確認に関するお問い合わせ先',
    'オンライン資格確認等コールセンター：{phone}（通話無料）',
    '月曜日～金曜日8：00～18：00 土曜日8：00～16：00（いずれも祝日を除く）',
  ],
  en: [
    'Health Insurance Claims Review & Reimbursement Services (Information Planning Dept. / Information Support Dept.)',
    'All-Japan Federation of National Health Insurance Organizations (Social Security and Tax Number System Headquarters)',
    'Online eligibility confirmation / Medical information support fund',
    'Contact for online eligibility confirmation',
    'Online Eligibility Confirmation Call Center: {phone} (toll-free)',
    'Monday–Friday 8:00–18:00, Saturday 8:00–16:00 (except public holidays)',
  ],
};

export interface MailBranding {
  baseUrl: string;
  callCenterPhone: string;
  contactLines?: string[] | undefined;
}

export function contactBlock(lang: 'ja' | 'en', b: MailBranding): string {
  return (b.contactLines ?? CONTACT_LINES[lang]).map((l) => l.replaceAll('{phone}', b.callCenterPhone)).join('\n');
}

/** "1時間" / "1 hour" for the configured lifetime of a link. */
export function formatDuration(minutes: number, lang: 'ja' | 'en'): string {
  if (minutes % 60 === 0) {
    const h = minutes / 60;
    return lang === 'ja' ? `${h}時間` : `${h} hour${h === 1 ? '' : 's'}`;
  }
  return lang === 'ja' ? `${minutes}分` : `${minutes} minutes`;
}
