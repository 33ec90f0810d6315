/**
 * Mails of a registration for a code held by a provisional account (ja + en, with the contact block): received and
 * waiting for the call-back; not opened. The opened account gets the usual 「ユーザー登録完了メール」.
 */
import { footer } from './account-mails.ts';
import type { MailBranding } from './contact-block.ts';
import type { RenderedMail } from './password-reset.ts';

type Lang = 'ja' | 'en';

export function registrationPendingMail(lang: Lang, code: string, b: MailBranding): RenderedMail {
  if (lang === 'en') {
    return {
      subject: '[Medical Institution Portal] Your registration was received (we will call the institution)',
      text: [
        'Your registration on the Medical Institution Portal was received.',
        '',
        `The institution code ${code} has a provisional account moved from the old portal. To keep anyone else from taking it over,`,
        'the call center will call the telephone number registered for the institution before the account opens.',
        'Once confirmed, the account opens and the "registration complete" mail gives your username; log in with the password you set.',
        'If it cannot be confirmed, no account is opened and we will tell you by mail.',
        '',
        ...footer(lang, b),
      ].join('\n'),
    };
  }
  return {
    subject: '【医療機関等向け総合ポータルサイト】ユーザー登録のお申し込みを受け付けました（確認のお電話）',
    text: [
      '医療機関等向け総合ポータルサイトへのユーザー登録のお申し込みを受け付けました。',
      '',
      `医療機関コード ${code} には、旧ポータルから移行した仮アカウントがあります。第三者によるなりすましを防ぐため、`,
      'コールセンターから医療機関のご登録の電話番号へ確認のお電話をしたうえで、アカウントを開設します。',
      '確認が取れ次第アカウントを開設し、「ユーザー登録完了メール」でユーザー名をお知らせします。お申し込みの際に設定したパスワードでログインできます。',
      '確認が取れない場合はアカウントを開設せず、その旨をメールでお知らせします。',
      '',
      ...footer(lang, b),
    ].join('\n'),
  };
}

export function registrationRejectedMail(lang: Lang, code: string, b: MailBranding): RenderedMail {
  if (lang === 'en') {
    return {
      subject: '[Medical Institution Portal] Your registration could not be completed',
      text: [
        `Your registration for the institution code ${code} could not be confirmed with the institution, so no account was opened.`,
        'The password you set has been discarded. If you have any questions, please contact the call center.',
        '',
        ...footer(lang, b),
      ].join('\n'),
    };
  }
  return {
    subject: '【医療機関等向け総合ポータルサイト】ユーザー登録のお申し込みについて（開設できませんでした）',
    text: [
      `医療機関コード ${code} のユーザー登録のお申し込みについて、医療機関への確認が取れなかったため、アカウントを開設できませんでした。`,
      'お申し込みの際に設定したパスワードは破棄しました。ご不明な点は、コールセンターまでお問い合わせください。',
      '',
      ...footer(lang, b),
    ].join('\n'),
  };
}
