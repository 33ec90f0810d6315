/** Mails of registration and of My account (ja + en), closing with the same contact block as the reset mail. */
import { contactBlock, type MailBranding } from './contact-block.ts';
import type { RenderedMail } from './password-reset.ts';
import { translator } from '../../web/i18n/i18n.ts';

type Lang = 'ja' | 'en';

/** The close of every account mail: the portal link, the send-only notes and the contact block. */
export function footer(lang: Lang, b: MailBranding): string[] {
  return lang === 'ja'
    ? [
        '■医療機関等向け総合ポータルサイト',
        `${b.baseUrl}/csm`,
        '',
        '※本メールは送信専用です。本メールへの返信にはご回答できません。',
        '※本メールにお心当たりのない場合やご不明な点がある場合は以下よりお問い合わせください。',
        '',
        contactBlock('ja', b),
        '',
      ]
    : [
        '■ Medical Institution Portal',
        `${b.baseUrl}/csm`,
        '',
        '* This mail is sent from a send-only address. Replies to it cannot be answered.',
        '* If you did not expect this mail or have any questions, please contact us below.',
        '',
        contactBlock('en', b),
        '',
      ];
}

export function registrationVerifyMail(lang: Lang, link: string, b: MailBranding): RenderedMail {
  if (lang === 'en') {
    return {
      subject: '[Medical Institution Portal] URL to complete your registration',
      text: [
        'Thank you for registering on the Medical Institution Portal.',
        'Open the URL below and set a password to complete the registration.',
        '',
        '=====',
        link,
        '=====',
        '',
        '* This URL is valid for 24 hours.',
        '',
        ...footer(lang, b),
      ].join('\n'),
    };
  }
  return {
    subject: '【医療機関等向け総合ポータルサイト】ユーザー登録用URL',
    text: [
      '医療機関等向け総合ポータルサイトへのユーザー登録のお申し込みを受け付けました。',
      '以下URLにアクセスし、パスワードを設定するとユーザー登録が完了します。',
      '',
      '=====',
      link,
      '=====',
      '',
      '※本URLの有効期限は24時間となります。',
      '',
      ...footer(lang, b),
    ].join('\n'),
  };
}

export function registrationDuplicateMail(lang: Lang, login: string, b: MailBranding): RenderedMail {
  if (lang === 'en') {
    return {
      subject: '[Medical Institution Portal] About a registration request',
      text: [
        'Someone asked to register a new account on the Medical Institution Portal with your e-mail address or your institution code.',
        'An account already exists, so no new account was created.',
        '',
        `If it was you, log in with your existing account (${login}). If you forgot the password, use "Reset password" on the login page: ${b.baseUrl}/login`,
        'If it was not you, you can ignore this mail; nothing has changed on your account.',
        '',
        ...footer(lang, b),
      ].join('\n'),
    };
  }
  return {
    subject: '【医療機関等向け総合ポータルサイト】ユーザー登録のお申し込みについて',
    text: [
      'お使いのメールアドレスまたは医療機関コードで、医療機関等向け総合ポータルサイトへの新規ユーザー登録のお申し込みがありました。',
      'すでにアカウントが登録されているため、新しいアカウントは作成していません。',
      '',
      `ご自身でお申し込みいただいた場合は、既存のアカウント（${login}）でログインしてください。`,
      `パスワードがわからない場合は、ログイン画面の「パスワードの再設定」から再設定できます。${b.baseUrl}/login`,
      'お心当たりのない場合は、このメールは破棄してください。アカウントには何も変更はありません。',
      '',
      ...footer(lang, b),
    ].join('\n'),
  };
}

export function registrationCompleteMail(
  lang: Lang,
  username: string,
  userId: string | null,
  b: MailBranding,
): RenderedMail {
  if (lang === 'en') {
    return {
      subject: '[Medical Institution Portal] Your registration is complete',
      text: [
        'Your registration on the Medical Institution Portal is complete.',
        '',
        `Username: ${username}`,
        ...(userId
          ? [`User ID: ${userId}`, 'Coordinators enter the user ID to log in and to reset the password.']
          : []),
        '',
        `Log in here: ${b.baseUrl}/login`,
        '',
        ...footer(lang, b),
      ].join('\n'),
    };
  }
  return {
    subject: '【医療機関等向け総合ポータルサイト】ユーザー登録完了メール',
    text: [
      '医療機関等向け総合ポータルサイトへのユーザー登録が完了しました。',
      '',
      `ユーザー名：${username}`,
      ...(userId
        ? [
            `ユーザーID：${userId}`,
            '※取りまとめ者の方は、ログインとパスワードの再設定の際にユーザーIDを入力してください。',
          ]
        : []),
      '',
      `ログインはこちら：${b.baseUrl}/login`,
      '',
      ...footer(lang, b),
    ].join('\n'),
  };
}

/**
 * The link opens a confirmation page (a GET changes nothing: mail scanners open links); the change happens when the
 * person presses its button, whose label the mail quotes from the same catalog so that the two never differ.
 */
export function emailChangeVerifyMail(lang: Lang, link: string, b: MailBranding): RenderedMail {
  const button = translator(lang)('account.email.confirmSubmit');
  if (lang === 'en') {
    return {
      subject: '[Medical Institution Portal] Please confirm your new e-mail address',
      text: [
        'We received a request to make this your e-mail address on the Medical Institution Portal.',
        `Open the URL below, then press the "${button}" button on the page that opens: only then is the address changed.`,
        '',
        '=====',
        link,
        '=====',
        '',
        '* This URL is valid for 24 hours.',
        '',
        ...footer(lang, b),
      ].join('\n'),
    };
  }
  return {
    subject: '【医療機関等向け総合ポータルサイト】メールアドレス変更の確認',
    text: [
      '医療機関等向け総合ポータルサイトのメールアドレスを、このアドレスに変更するお申し込みを受け付けました。',
      `以下URLにアクセスし、表示された画面で「${button}」ボタンを押下すると変更が完了します（URLを開いただけでは変更されません）。`,
      '',
      '=====',
      link,
      '=====',
      '',
      '※本URLの有効期限は24時間となります。',
      '',
      ...footer(lang, b),
    ].join('\n'),
  };
}

export function emailChangedMail(lang: Lang, login: string, newEmail: string, b: MailBranding): RenderedMail {
  const masked = newEmail.replace(/^(.).*(@.*)$/, '$1***$2');
  if (lang === 'en') {
    return {
      subject: '[Medical Institution Portal] Your e-mail address was changed',
      text: [
        `The e-mail address of the account "${login}" was changed to ${masked}.`,
        'Mail for this account will no longer come to this address.',
        'If you did not change it, contact the call center at once.',
        '',
        ...footer(lang, b),
      ].join('\n'),
    };
  }
  return {
    subject: '【医療機関等向け総合ポータルサイト】メールアドレス変更のお知らせ',
    text: [
      `アカウント「${login}」のメールアドレスが ${masked} に変更されました。`,
      '今後、このアカウントのお知らせはこのアドレスには届きません。',
      'お心当たりのない場合は、至急コールセンターまでお問い合わせください。',
      '',
      ...footer(lang, b),
    ].join('\n'),
  };
}
