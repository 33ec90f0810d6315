/** 「パスワード変更のお知らせ」(C4): no secret in it, and the contact block. */
import { contactBlock, type MailBranding } from './contact-block.ts';
import type { RenderedMail } from './password-reset.ts';
import { japanDateTime } from '../../web/japan-time.ts';

function formatTime(at: number, lang: 'ja' | 'en'): string {
  const [date, time] = japanDateTime(at).split(' ') as [string, string];
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  return lang === 'ja' ? `${y}年${mo}月${d}日 ${time}（日本時間）` : `${date} ${time} (Japan time)`;
}

/** `by`: 'reset' ends every session; 'self' (changed while logged in) keeps the session in use. */
export function passwordChangedMail(
  lang: 'ja' | 'en',
  username: string,
  at: number,
  b: MailBranding,
  by: 'reset' | 'self' = 'reset',
): RenderedMail {
  if (lang === 'en') {
    return {
      subject: '[Medical Institution Portal] Your password was changed',
      text: [
        `The password of the account "${username}" on the Medical Institution Portal was changed.`,
        '',
        `Changed at: ${formatTime(at, 'en')}`,
        '',
        by === 'reset'
          ? 'All sessions of this account have been logged out.'
          : 'The account has been logged out on every other device.',
        'If you did not change it, reset your password at once and contact us below.',
        '',
        '■ Medical Institution Portal',
        `${b.baseUrl}/csm`,
        '',
        '* This mail is sent from a send-only address. Replies to it cannot be answered.',
        '',
        contactBlock('en', b),
        '',
      ].join('\n'),
    };
  }
  return {
    subject: '【医療機関等向け総合ポータルサイト】パスワード変更のお知らせ',
    text: [
      `医療機関等向け総合ポータルサイトのアカウント「${username}」のパスワードが変更されました。`,
      '',
      `変更日時：${formatTime(at, 'ja')}`,
      '',
      by === 'reset'
        ? 'このアカウントのすべてのログイン状態は解除されました。'
        : '変更に使用した端末以外でのログイン状態はすべて解除されました。',
      'お心当たりのない場合は、至急パスワードの再設定を行い、以下までお問い合わせください。',
      '',
      '■医療機関等向け総合ポータルサイト',
      `${b.baseUrl}/csm`,
      '',
      '※本メールは送信専用です。本メールへの返信にはご回答できません。',
      '',
      contactBlock('ja', b),
      '',
    ].join('\n'),
  };
}
