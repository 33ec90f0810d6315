/** パスワード変更用URL mail, word for word as the seed manual shows it (ja), and its English version. */
import { contactBlock, formatDuration, type MailBranding } from './contact-block.ts';

export interface RenderedMail {
  subject: string;
  text: string;
}

export function passwordResetMail(lang: 'ja' | 'en', link: string, ttlMinutes: number, b: MailBranding): RenderedMail {
  const ttl = formatDuration(ttlMinutes, lang);
  if (lang === 'en') {
    return {
      subject: '[Medical Institution Portal] URL for changing your password',
      text: [
        'This mail gives you the link for changing your password on the Medical Institution Portal (医療機関等向け総合ポータルサイト).',
        'You can change your password by opening the URL below.',
        '',
        '=====',
        'Please change your password here:',
        link,
        '=====',
        '',
        `* This URL is valid for ${ttl}.`,
        '',
        '■ Medical Institution Portal',
        `${b.baseUrl}/csm`,
        '',
        '* This mail is sent from a send-only address. Replies to it cannot be answered.',
        '* If you did not expect this mail or have any questions, please contact us below.',
        '',
        contactBlock('en', b),
        '',
      ].join('\n'),
    };
  }
  return {
    subject: '【医療機関等向け総合ポータルサイト】パスワード変更用URL',
    text: [
      '医療機関等向け総合ポータルサイトにおけるパスワード変更用のURLリンクを通知いたします。',
      '以下URLに遷移すること、パスワードを変更できます。',
      '',
      '=====',
      'パスワード変更用は以下からお願いいたします。',
      link,
      '=====',
      '',
      `※本URLの有効期限は${ttl}となります。`,
      '',
      '■医療機関等向け総合ポータルサイト',
      `${b.baseUrl}/csm`,
      '',
      '※本メールは送信専用です。本メールへの返信にはご回答できません。',
      '※本メールにお心当たりのない場合やご不明な点がある場合は以下よりお問い合わせください。',
      '',
      contactBlock('ja', b),
      '',
    ].join('\n'),
  };
}
