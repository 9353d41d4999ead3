/**
 * The access-control API both servers mount under `/api` (server-shared/web-auth/routes.ts,
 * SPEC.md §2–§3): the session (login and me), TOTP enrolment, API tokens, the user list, one user
 * and the audit log, as the dashboards read them. Types only, like the rest of protocols/api: the
 * routes check their answers against them.
 */

/** What a role or an API token may do (SPEC.md §1). */
export type Permission = 'read' | 'alerts' | 'rules' | 'admin' | 'ingest' | 'reports' | 'playbooks';

/** The logged-in user as `me` shows it. */
export interface SessionUser {
  username: string;
  role: string;
  totp_enabled: boolean;
}

/** `POST /api/auth/login`, and `GET /api/auth/me` for a user (session or personal token). */
export interface Session {
  user: SessionUser;
  /** Empty while TOTP enrolment is pending. */
  permissions: Permission[];
  /** Sent back as `x-csrf-token` on writes; null when the caller is a personal API token. */
  csrf_token: string | null;
  /** TOTP is required and not enabled yet: only /api/auth/* answers until it is (SPEC.md §2). */
  totp_enrollment_required: boolean;
}

/** `GET /api/auth/me` for a token from the config file, which has no user record. */
export interface ConfigTokenMe {
  user: { username: string; role: null };
  permissions: Permission[];
}

/** `POST /api/auth/totp/setup`: a new secret, active only once `/api/auth/totp/enable` takes a code. */
export interface TotpSetup {
  /** Base32. */
  secret: string;
  otpauth_url: string;
}

/** `POST /api/auth/totp/enable` and `/api/auth/totp/disable`. */
export interface TotpState {
  totp_enabled: boolean;
}

/** An API token as listed (never its value: the server keeps only its SHA-256). */
export interface ApiToken {
  id: string;
  name: string;
  username: string;
  scopes: Permission[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

/** `GET /api/auth/tokens`: one's own tokens; an admin's lists every token. */
export interface TokensResponse {
  tokens: ApiToken[];
}

/** `POST /api/auth/tokens` (201): the only answer that holds the token's value. */
export interface CreatedApiToken extends ApiToken {
  token: string;
}

/** A user as the users API shows one (never a hash or a secret). */
export interface User {
  username: string;
  role: string;
  totp_enabled: boolean;
  require_totp: boolean;
  disabled: boolean;
  created_at: string;
  updated_at: string;
}

/** `GET /api/users` (admin). */
export interface UsersResponse {
  users: User[];
}

/** One entry of `GET /api/audit`. */
export interface AuditEntry {
  id: number;
  ts: string;
  actor: string;
  action: string;
  target: string | null;
  address: string | null;
  outcome: string;
  detail: Record<string, unknown> | null;
}

/** `GET /api/audit?limit=&before=&actor=&action=` (admin): newest first. */
export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `before` for the next (older) page; null on the last. */
  next_before: number | null;
}
