/**
 * The portal's starting content (お知らせ, よくある質問) in both languages, shown until editors
 * manage content in the database. Texts follow the seed manual.
 */
import type { Lang } from '../web/i18n/i18n.ts';

export interface NewsItem {
  date: string;
  title: Record<Lang, string>;
  body: Record<Lang, string>;
}

export interface FaqItem {
  q: Record<Lang, string>;
  a: Record<Lang, string>;
}

export const NEWS: NewsItem[] = [
  {
    date: '2024-03-25',
    title: {
      ja: 'ログイン画面・パスワード再設定画面を変更しました',
      en: 'The login and password reset screens have changed',
    },
    body: {
      ja: 'トップページ、ログイン画面、パスワード再設定画面を変更しました。パスワードの再設定は「①特定」「②検証」「③リセット」の順に行います。',
      en: 'The top page, the login screen and the password reset screens have changed. A password reset goes through the steps "Identify", "Verify" and "Reset".',
    },
  },
  {
    date: '2024-02-28',
    title: {
      ja: 'パスワード変更用URLメールの送信元アドレスについて',
      en: 'About the sender of the password change URL mail',
    },
    body: {
      ja: 'パスワード変更用URLメールは from@mail.iryohokenjyohoportalsite.jp から送信されます。受信できるよう設定をご確認ください。',
      en: 'The password change URL mail is sent from from@mail.iryohokenjyohoportalsite.jp. Please make sure you can receive it.',
    },
  },
];

export const FAQ: FaqItem[] = [
  {
    q: { ja: 'パスワードを忘れた場合はどうすればよいですか。', en: 'I forgot my password. What should I do?' },
    a: {
      ja: 'ログイン画面の「ログイン」ボタン横の「パスワードの再設定」から、ユーザー名（取りまとめ者の方はユーザーID）と登録したメールアドレスを入力してください。パスワード変更用URLを記載したメールが届きます。',
      en: 'Use "Reset password" beside the "Log in" button on the login page and enter your username (coordinators: user ID) and registered e-mail address. A mail with the password change URL will arrive.',
    },
  },
  {
    q: { ja: 'パスワード再設定のメールが届きません。', en: 'The password reset mail does not arrive.' },
    a: {
      ja: '仮アカウントからメールアドレスを更新していない場合（末尾が「@01」～「@48」のいずれか）や、旧ポータルで登録したメールアドレスに誤りがある場合は、メールが届きません。トップページの「新規ユーザー登録はこちら」からユーザー登録を行ってください。迷惑メールフォルダもご確認ください。',
      en: 'No mail arrives if you have not replaced the address of a provisional account (ending in "@01" to "@48") or if the address registered on the old portal is wrong. Please register from "New user registration" on the top page. Please also check your spam folder.',
    },
  },
  {
    q: { ja: '表示されている文字（CAPTCHA）が読みにくいです。', en: 'The characters (CAPTCHA) are hard to read.' },
    a: {
      ja: '「別の文字を表示」を押下すると、表示の文字を変更できます。画像が見えない場合は「画像の文字を入力せずに確認する」を押下すると、ブラウザーでの計算（数秒）により文字を入力せずに確認できます。JavaScript が使えない場合はコールセンターにお問い合わせください。',
      en: 'Press "Show other characters" to get new ones. If you cannot see the picture, press "Confirm without typing the characters": your browser confirms by computing for a few seconds, with no characters to type. Without JavaScript, please call the call center.',
    },
  },
  {
    q: { ja: 'パスワード変更用URLが無効と表示されます。', en: 'The password change URL is shown as no longer valid.' },
    a: {
      ja: 'パスワード変更用URLは、送信されてから1時間を経過すると無効になります。また、新しいURLを送信すると、それより前のURLは使用できなくなります。もう一度パスワードの再設定を行ってください。',
      en: 'A password change URL stops working 1 hour after it was sent, and sending a new one makes the earlier ones invalid. Please reset your password again.',
    },
  },
  // Issue 11 §8: the rest of the seed's rules, as the call center is asked about them.
  {
    q: { ja: 'パスワード変更用URLの有効期限はどのくらいですか。', en: 'How long is the password change URL valid?' },
    a: {
      ja: 'セキュリティ保護のため、送信されてから1時間を経過すると無効になります。1時間を過ぎた場合は、もう一度「パスワードの再設定」から手続きを行ってください。URLを開いただけでは無効になりません。',
      en: 'For security, it stops working 1 hour after it was sent. After that, please start again from "Reset password". Merely opening the URL does not use it up.',
    },
  },
  {
    q: { ja: '仮アカウントとは何ですか。', en: 'What is a provisional account?' },
    a: {
      ja: '旧ポータルから移行したアカウントで、メールアドレスの欄に末尾が「@01」～「@48」の仮の値が入っています。このままではパスワード再設定などのメールが届きません。トップページの「新規ユーザー登録はこちら」からユーザー登録を行ってください。',
      en: 'An account migrated from the old portal whose e-mail field holds a placeholder ending in "@01" to "@48". No mail such as a password reset can reach it. Please register from "New user registration" on the top page.',
    },
  },
  {
    q: {
      ja: '自分のアカウントが仮アカウントかどうかを確認するには、どうすればよいですか。',
      en: 'How can I tell whether my account is provisional?',
    },
    a: {
      ja: '登録されているメールアドレスの末尾が「@01」～「@48」のいずれかであれば仮アカウントです。仮アカウントでログインすると、メールアドレスの変更画面が表示されます（「アカウント情報」でも確認できます）。ログインできない場合は、パスワードの再設定メールが届かないことが目安になります。',
      en: 'If the registered e-mail address ends in "@01" to "@48", the account is provisional: logging in then opens the page to change the address ("Account information" shows it too). If you cannot log in, a reset mail that never arrives is a sign of it.',
    },
  },
  {
    q: {
      ja: '旧ポータルで登録したメールアドレスが間違っていたようです。',
      en: 'The e-mail address I registered on the old portal seems to be wrong.',
    },
    a: {
      ja: '旧ポータルで登録したメールアドレスに誤りがある場合、パスワード再設定を行っても通知メールは届きません。トップページの「新規ユーザー登録はこちら」から、正しいメールアドレスでユーザー登録を行ってください。',
      en: 'If the address registered on the old portal is wrong, no reset mail can arrive. Please register again with the right address from "New user registration" on the top page.',
    },
  },
  {
    q: {
      ja: 'メールアドレスを更新したのに、パスワード再設定のメールが届きません。',
      en: 'I updated my e-mail address, but the reset mail still does not arrive.',
    },
    a: {
      ja: '仮アカウントからメールアドレスを更新しているにも関わらず通知メールが届かない場合は、旧ポータルで登録したメールアドレスに誤りがある可能性があります。トップページの「新規ユーザー登録はこちら」からユーザー登録を行ってください。ユーザ登録でもエラーとなる場合は、コールセンターまでお問い合わせください。',
      en: 'If the mail does not arrive although you replaced the provisional address, the address registered on the old portal may be wrong. Please register from "New user registration" on the top page; if registration fails too, please call the call center.',
    },
  },
  {
    q: { ja: '携帯電話のメールアドレスにメールが届きません。', en: 'Mail does not reach my mobile phone address.' },
    a: {
      ja: '携帯電話会社の迷惑メールフィルターやドメイン指定受信の設定により、メールが受信拒否されている可能性があります。from@mail.iryohokenjyohoportalsite.jp（ドメイン：mail.iryohokenjyohoportalsite.jp）からのメールを受信できるよう、携帯電話会社の受信設定をご確認ください。URL付きメールの受信拒否の設定もご確認ください。',
      en: "Your carrier's spam filter or domain filtering may be refusing the mail. Please allow mail from from@mail.iryohokenjyohoportalsite.jp (domain mail.iryohokenjyohoportalsite.jp) in your carrier's settings, and check that mail containing URLs is not refused.",
    },
  },
  {
    q: {
      ja: 'パスワード変更用URLメールはどのアドレスから送信されますか。',
      en: 'From which address is the password change URL mail sent?',
    },
    a: {
      ja: 'from@mail.iryohokenjyohoportalsite.jp から送信されます。件名は「【医療機関等向け総合ポータルサイト】パスワード変更用URL」です。このアドレスからのメールを受信できるよう設定してください。',
      en: 'It is sent from from@mail.iryohokenjyohoportalsite.jp with the subject "【医療機関等向け総合ポータルサイト】パスワード変更用URL". Please make sure you can receive mail from this address.',
    },
  },
  {
    q: { ja: 'メールが迷惑メールフォルダに入ってしまいます。', en: 'The mail ends up in my spam folder.' },
    a: {
      ja: 'メールソフトやセキュリティソフトの設定で、from@mail.iryohokenjyohoportalsite.jp を受信許可リスト（連絡先）に追加してください。迷惑メールフォルダに入ったメールのURLも、送信から1時間以内であれば利用できます。',
      en: 'Add from@mail.iryohokenjyohoportalsite.jp to the allowed senders (contacts) of your mail or security software. A URL in a mail that landed in the spam folder still works within 1 hour of sending.',
    },
  },
  {
    q: {
      ja: 'パスワード変更用URLのメールが何通も届きました。どれを使えばよいですか。',
      en: 'I received several password change mails. Which one should I use?',
    },
    a: {
      ja: '最後に届いたメールのURLをご利用ください。新しいURLを送信すると、それより前のURLは使用できなくなります。',
      en: 'Use the URL in the latest mail: sending a new URL makes every earlier one invalid.',
    },
  },
  {
    q: { ja: 'ログインできません。', en: 'I cannot log in.' },
    a: {
      ja: 'ユーザー名（取りまとめ者の方はユーザーID）とパスワードをご確認ください。パスワードの大文字と小文字は区別されます。パスワードを忘れた場合は、ログイン画面の「パスワードの再設定」から再設定してください。続けて間違えるとアカウントが一定時間ロックされます。',
      en: 'Please check your username (coordinators: user ID) and password; the password is case-sensitive. If you forgot it, use "Reset password" on the login page. After several wrong attempts in a row the account is locked for a while.',
    },
  },
  {
    q: { ja: 'アカウントがロックされてログインできません。', en: 'My account is locked and I cannot log in.' },
    a: {
      ja: 'パスワードを続けて間違えると、不正なログインを防ぐため、アカウントは一定時間ロックされます。時間をおいてから再度お試しいただくか、パスワードの再設定を行ってください。お急ぎの場合は、コールセンターでロックを解除できます。',
      en: 'After several wrong passwords in a row the account is locked for a while to stop break-ins. Please try again later or reset your password. If it is urgent, the call center can unlock the account.',
    },
  },
  {
    q: { ja: 'ユーザー名を忘れました。', en: 'I forgot my username.' },
    a: {
      ja: 'ユーザー名は「ユーザー登録完了メール」に記載しています。メールが見つからない場合は、コールセンターまでお問い合わせください。',
      en: 'Your username is in the "registration complete" mail. If you cannot find it, please call the call center.',
    },
  },
  {
    q: {
      ja: '取りまとめ者は、ログインやパスワードの再設定で何を入力しますか。',
      en: 'What do coordinators enter to log in or reset their password?',
    },
    a: {
      ja: '取りまとめ者の方は、ユーザー名ではなく、ユーザー登録完了メールに記載されたユーザーIDを入力してください。',
      en: 'Coordinators enter the user ID given in the registration complete mail, not a username.',
    },
  },
  {
    q: { ja: '新規ユーザー登録でエラーになります。', en: 'New user registration shows an error.' },
    a: {
      ja: '各項目の下に表示される内容に従って入力し直してください。医療機関コードは10桁で、10桁目は検証番号です。仮アカウントがある医療機関コードの場合は、コールセンターから確認のお電話をしてからアカウントを開設します。ユーザ登録でもエラーとなる場合は、コールセンターまでお問い合わせください。',
      en: 'Please correct each field as the message below it says. The institution code has 10 digits, the last one a check digit. For a code that has a provisional account, the call center phones you to confirm before the account opens. If registration still fails, please call the call center.',
    },
  },
  {
    q: { ja: 'パスワードにはどのような条件がありますか。', en: 'What are the password rules?' },
    a: {
      ja: '大文字/小文字/数字をそれぞれ1文字以上、かつ8文字以上100文字以内で入力してください。ユーザー名を含むパスワードや、よく使われるパスワードは設定できません。条件を満たさない場合は、満たしていない条件が入力欄の下に表示されます。',
      en: 'At least one upper-case letter, one lower-case letter and one digit, 8 to 100 characters. A password containing the username or a commonly used one is refused; any rule not met is named below the field.',
    },
  },
  {
    q: { ja: 'パスワードを再設定した後は、どうなりますか。', en: 'What happens after I reset my password?' },
    a: {
      ja: '「Password Resetに成功」の画面で「完了」を押下するとログイン画面が表示されますので、新しいパスワードでログインしてください。ほかの端末でのログインはすべて終了し、「パスワード変更のお知らせ」メールが届きます。',
      en: 'On the "Password Reset successful" screen press "Done": the login page opens and you log in with the new password. Every other login of the account ends and a "password changed" notice is mailed to you.',
    },
  },
  {
    q: {
      ja: '身に覚えのない「パスワード変更のお知らせ」メールが届きました。',
      en: 'I received a "password changed" notice I did not expect.',
    },
    a: {
      ja: 'ご本人以外がパスワードを変更した可能性があります。すぐにパスワードの再設定を行い、コールセンターまでお問い合わせください。',
      en: 'Someone else may have changed your password. Please reset it at once and call the call center.',
    },
  },
  {
    q: {
      ja: 'パスワードの再設定の途中で「手続きの有効期限が切れました」と表示されます。',
      en: 'The password reset says the procedure has expired.',
    },
    a: {
      ja: '一定時間操作がなかったため、手続きの有効期限が切れました。お手数ですが、「①特定」から最初にやり直してください。',
      en: 'The procedure expired because nothing happened for a while. Please start again from step 1 "Identify".',
    },
  },
  {
    q: {
      ja: 'コールセンターの電話番号と受付時間を教えてください。',
      en: "What are the call center's phone number and hours?",
    },
    a: {
      ja: 'オンライン資格確認等コールセンター：0800-080-4583（通話無料）。受付時間は月曜日～金曜日8：00～18：00、土曜日8：00～16：00（いずれも祝日を除く）です。',
      en: 'Online Eligibility Confirmation Call Center: 0800-080-4583 (toll-free), Monday–Friday 8:00–18:00 and Saturday 8:00–16:00, except public holidays.',
    },
  },
];

export interface PageSeed {
  slug: string;
  title: Record<Lang, string>;
  body: Record<Lang, string>;
}

/** Starting text of the editable pages (editors change it in the console). */
export const PAGES: PageSeed[] = [
  {
    slug: 'contact',
    title: { ja: 'お問い合わせ先', en: 'Contact' },
    body: {
      ja: '## オンライン資格確認に関するお問い合わせ先\n\nオンライン資格確認等コールセンター：**0800-080-4583**（通話無料）\n月曜日～金曜日8：00～18：00 土曜日8：00～16：00（いずれも祝日を除く）\n\n## 運営\n\n社会保険診療報酬支払基金（情報化企画部・情報化支援部）\n国民健康保険中央会（番号制度対策本部）\n\nパスワードの再設定メールが届かない場合は、[よくある質問](/csm/faq?q=メール)もご覧ください。',
      en: '## Contact for online eligibility confirmation\n\nOnline Eligibility Confirmation Call Center: **0800-080-4583** (toll-free)\nMonday–Friday 8:00–18:00, Saturday 8:00–16:00 (except public holidays)\n\n## Operated by\n\nHealth Insurance Claims Review & Reimbursement Services\nAll-Japan Federation of National Health Insurance Organizations\n\nIf a password reset mail does not arrive, see also the [FAQ](/csm/faq?q=mail).',
    },
  },
  {
    slug: 'institution-changes',
    title: {
      ja: '医療機関等を新設・廃止・コード変更される方へ',
      en: 'Opening, closing or changing the code of a medical institution',
    },
    body: {
      ja: '医療機関等を新設・廃止される場合や、医療機関コードが変更になる場合は、各サービスの手続きが必要です。\n\n- 新設：新規ユーザー登録を行い、各サービスの利用申請を行ってください。\n- 廃止：各サービスの廃止の手続きを行ってください。\n- コード変更：承継申請を行うと、これまでの申請内容を新しいコードに引き継げます。\n\n手続きの詳細は[お問い合わせ先](/csm/contact)までご確認ください。',
      en: 'When a medical institution or pharmacy opens or closes, or its institution code changes, each service needs a procedure.\n\n- Opening: register as a new user and apply for each service.\n- Closing: apply to end each service.\n- Code change: a succession application carries your applications over to the new code.\n\nPlease ask the [contacts](/csm/contact) for details.',
    },
  },
  {
    slug: 'service-online-qualification',
    title: { ja: 'オンライン資格確認・オンライン請求', en: 'Online eligibility confirmation / online claims' },
    body: {
      ja: 'オンライン資格確認・オンライン請求に関する各種手続き、マニュアル、お知らせをご案内します。',
      en: 'Procedures, manuals and news about online eligibility confirmation and online claims.',
    },
  },
  {
    slug: 'service-e-prescription',
    title: { ja: '電子処方箋管理サービス', en: 'Electronic prescription management service' },
    body: {
      ja: '電子処方箋管理サービスの導入・運用に関する手続き、マニュアル、お知らせをご案内します。',
      en: 'Procedures, manuals and news about introducing and running the electronic prescription management service.',
    },
  },
  {
    slug: 'service-ehr-sharing',
    title: { ja: '電子カルテ情報共有サービス', en: 'Electronic medical record sharing service' },
    body: {
      ja: '電子カルテ情報共有サービスの導入・運用に関する手続き、マニュアル、お知らせをご案内します。',
      en: 'Procedures, manuals and news about introducing and running the electronic medical record sharing service.',
    },
  },
];
