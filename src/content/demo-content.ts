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
    title: { ja: 'ログイン画面・パスワード再設定画面を変更しました', en: 'The login and password reset screens have changed' },
    body: {
      ja: 'トップページ、ログイン画面、パスワード再設定画面を変更しました。パスワードの再設定は「①特定」「②検証」「③リセット」の順に行います。',
      en: 'The top page, the login screen and the password reset screens have changed. A password reset goes through the steps "Identify", "Verify" and "Reset".',
    },
  },
  {
    date: '2024-02-28',
    title: { ja: 'パスワード変更用URLメールの送信元アドレスについて', en: 'About the sender of the password change URL mail' },
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
    title: { ja: '医療機関等を新設・廃止・コード変更される方へ', en: 'Opening, closing or changing the code of a medical institution' },
    body: {
      ja: '医療機関等を新設・廃止される場合や、医療機関コードが変更になる場合は、各サービスの手続きが必要です。\n\n- 新設：新規ユーザー登録を行い、各サービスの利用申請を行ってください。\n- 廃止：各サービスの廃止の手続きを行ってください。\n- コード変更：承継申請を行うと、これまでの申請内容を新しいコードに引き継げます。\n\n手続きの詳細は[お問い合わせ先](/csm/contact)までご確認ください。',
      en: 'When a medical institution or pharmacy opens or closes, or its institution code changes, each service needs a procedure.\n\n- Opening: register as a new user and apply for each service.\n- Closing: apply to end each service.\n- Code change: a succession application carries your applications over to the new code.\n\nPlease ask the [contacts](/csm/contact) for details.',
    },
  },
  {
    slug: 'service-online-qualification',
    title: { ja: 'オンライン資格確認・オンライン請求', en: 'Online eligibility confirmation / online claims' },
    body: { ja: 'オンライン資格確認・オンライン請求に関する各種手続き、マニュアル、お知らせをご案内します。', en: 'Procedures, manuals and news about online eligibility confirmation and online claims.' },
  },
  {
    slug: 'service-e-prescription',
    title: { ja: '電子処方箋管理サービス', en: 'Electronic prescription management service' },
    body: { ja: '電子処方箋管理サービスの導入・運用に関する手続き、マニュアル、お知らせをご案内します。', en: 'Procedures, manuals and news about introducing and running the electronic prescription management service.' },
  },
  {
    slug: 'service-ehr-sharing',
    title: { ja: '電子カルテ情報共有サービス', en: 'Electronic medical record sharing service' },
    body: { ja: '電子カルテ情報共有サービスの導入・運用に関する手続き、マニュアル、お知らせをご案内します。', en: 'Procedures, manuals and news about introducing and running the electronic medical record sharing service.' },
  },
];
