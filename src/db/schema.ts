/**
 * Table types for Kysely. Times are epoch milliseconds, booleans 0/1, ids text,
 * so the same queries run on SQLite and PostgreSQL.
 */
import type { Generated, Selectable } from 'kysely';

export interface UsersTable {
  id: string;
  username: string;
  user_id: string | null;
  account_type: 'institution' | 'coordinator';
  email: string;
  display_name: string;
  institution_code: string | null;
  status: 'active' | 'locked' | 'provisional' | 'closed';
  password_hash: string;
  failed_logins: number;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
  password_changed_at: number;
  institution_name: string | null;
  phone: string | null;
  /** bcrypt hash of the old portal's password; verified once at the first login, then replaced. */
  legacy_hash: string | null;
  email_verified_at: number | null;
  /** Who set the current lock (null when not locked): support cannot lift an admin's or the CLI's (S12). */
  // Optional so that inserts written before this column (registration, import) need no change: null when omitted.
  locked_by?: LockOrigin | null;
}

/** Who locked an account: repeated failed logins, or an operator (console role, or the command line). */
export type LockOrigin = 'failures' | 'support' | 'admin' | 'cli';

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string;
  user_agent: string;
}

export interface FlowsTable {
  id: string;
  kind: 'recovery' | 'reset' | 'registration' | 'verify';
  state: 'identify' | 'verify' | 'sent' | 'reset' | 'done';
  browser_hash: string;
  lang: string;
  identifier: string;
  user_id: string | null;
  token_id: string | null;
  captcha_hash: string | null;
  /** The CAPTCHA's answer, sealed: its picture is drawn from it when fetched. */
  captcha_answer: string | null;
  /** No longer written (pictures are drawn when fetched); kept for flows made before. */
  captcha_svg: string | null;
  /** No longer written: the spelled-out answer handed it to scripts (K2); kept for flows made before. */
  captcha_spoken: string | null;
  /** Always 'image' now (the non-visual alternative is a proof of work, K2); 'text' only in older flows. */
  captcha_mode: 'image' | 'text';
  captcha_expires_at: number | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
}

/** A stage-② submission waiting for the worker (the typed address only as an HMAC). */
export interface ResetRequestsTable {
  id: string;
  flow_id: string;
  identifier: string;
  email_hmac: string;
  lang: string;
  ip: string;
  user_agent: string;
  ip_limited: number;
  created_at: number;
  /** The browser's device cookie at stage ②, sealed; the worker checks it against the account (null: none). */
  device_cookie_sealed: string | null;
}

export interface ResetTokensTable {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  cancelled_at: number | null;
  /** The address the mail was asked from (null: sent by the call center); limits per account and IP (R3). */
  requested_ip: string | null;
  /** The source it was asked from: 'dev:<digest>' (the owner's device) or 'ip:<address bucket>'; null before it was kept. */
  requested_source: string | null;
}

export interface OutboxTable {
  id: string;
  kind: string;
  user_id: string | null;
  to_addr: string;
  subject: string;
  /** The body, encrypted at rest (it may hold a reset link); emptied once delivered. */
  body_enc: string;
  status: 'queued' | 'sending' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: number;
  claimed_until: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export interface MailEventsTable {
  id: string;
  outbox_id: string;
  at: number;
  event: 'queued' | 'sent' | 'retry' | 'failed';
  detail: string | null;
}

export interface AuditLogTable {
  /** Order of insertion (numbered by the database). */
  seq: Generated<number>;
  id: string;
  at: number;
  event: string;
  outcome: string;
  user_id: string | null;
  identifier: string | null;
  actor: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string | null;
  /** Place in the hash chain, given by the chainer; null while the entry waits to be chained. */
  chain: number | null;
  prev_hash: string | null;
  hash: string | null;
}

export interface CoordinatorInstitutionsTable {
  user_id: string;
  institution_code: string;
}

export interface EmailVerificationsTable {
  id: string;
  purpose: 'register' | 'email_change';
  token_hash: string;
  email: string;
  user_id: string | null;
  /** Sealed JSON of what was typed (registration) or the new address (change). */
  payload_enc: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  cancelled_at: number | null;
}

/** A registration for a code held by a provisional account, waiting for the call center's call-back (issue 10 item 5). */
export interface RegistrationCasesTable {
  id: string;
  /** The e-mail verification whose link the registrant followed (one case per link). */
  verification_id: string;
  institution_code: string;
  /** The provisional account that holds the code. */
  holder_id: string;
  status: 'pending' | 'approved' | 'rejected';
  institution_name: string;
  contact_name: string;
  email: string;
  phone: string;
  lang: string;
  /** argon2id of the password the registrant chose; null once the case is decided. */
  password_hash: string | null;
  ip: string;
  created_at: number;
  decided_at: number | null;
  /** `operator:<username>` */
  decided_by: string | null;
  decision_reason: string | null;
  new_user_id: string | null;
}

export interface OperatorsTable {
  id: string;
  username: string;
  display_name: string;
  role: 'admin' | 'support' | 'editor';
  password_hash: string;
  status: 'active' | 'disabled';
  failed_logins: number;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
  /** When the CLI disabled the operator (null while active). */
  disabled_at?: number | null;
}

export interface OperatorSessionsTable {
  id_hash: string;
  operator_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string;
  user_agent: string;
}

export interface NewsTable {
  id: string;
  title_ja: string;
  title_en: string;
  /** A safe subset of Markdown (see content/markdown.tsx). */
  body_ja: string;
  body_en: string;
  category: 'general' | 'online-qualification' | 'e-prescription' | 'ehr-sharing';
  importance: 'normal' | 'important';
  status: 'draft' | 'published';
  publish_at: number;
  end_at: number | null;
  search_text: string;
  created_at: number;
  updated_at: number;
  updated_by: string;
}

export interface FaqTable {
  id: string;
  category: string;
  question_ja: string;
  answer_ja: string;
  question_en: string;
  answer_en: string;
  sort_order: number;
  status: 'draft' | 'published';
  /** Question and answer folded for search (NFKC, lower case, katakana as hiragana). */
  search_text: string;
  created_at: number;
  updated_at: number;
  updated_by: string;
}

export interface PagesTable {
  slug: string;
  title_ja: string;
  title_en: string;
  body_ja: string;
  body_en: string;
  updated_at: number;
  updated_by: string;
}

/** Login failures of one account from one source (an IP address or a device cookie): L2. */
export interface LoginThrottleTable {
  /** 'u:<user id>' or 'o:<operator id>'. */
  subject: string;
  /** 'ip:<address>' or 'dev:<digest of the device id>'. */
  source: string;
  failures: number;
  locked_until: number | null;
  /** Locks of this source so far: each makes the next one longer; starts again after a quiet day. */
  lock_count: number;
  updated_at: number;
}

/** A network (IPv4 address, IPv6 /64) an account logged in from successfully. */
export interface LoginNetworksTable {
  subject: string;
  network: string;
  last_success_at: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  flows: FlowsTable;
  reset_tokens: ResetTokensTable;
  reset_requests: ResetRequestsTable;
  outbox: OutboxTable;
  mail_events: MailEventsTable;
  audit_log: AuditLogTable;
  coordinator_institutions: CoordinatorInstitutionsTable;
  email_verifications: EmailVerificationsTable;
  registration_cases: RegistrationCasesTable;
  operators: OperatorsTable;
  operator_sessions: OperatorSessionsTable;
  news: NewsTable;
  faq: FaqTable;
  pages: PagesTable;
  login_throttle: LoginThrottleTable;
  login_networks: LoginNetworksTable;
}

export type Operator = Omit<Selectable<OperatorsTable>, 'disabled_at'> & { disabled_at?: number | null };
export type News = Selectable<NewsTable>;
export type Faq = Selectable<FaqTable>;
export type Page = Selectable<PagesTable>;

export type EmailVerification = Selectable<EmailVerificationsTable>;
export type RegistrationCase = Selectable<RegistrationCasesTable>;

/** locked_by stays optional here too: code that builds a User in memory before inserting it (registration, import) omits it. */
export type User = Omit<Selectable<UsersTable>, 'locked_by'> & { locked_by?: LockOrigin | null };
export type Session = Selectable<SessionsTable>;
export type Flow = Selectable<FlowsTable>;
export type ResetToken = Selectable<ResetTokensTable>;
export type OutboxMail = Selectable<OutboxTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type ResetRequest = Selectable<ResetRequestsTable>;
export type LoginThrottle = Selectable<LoginThrottleTable>;
