/**
 * The access-control model both servers share (SPEC.md §1–§3): roles and their permissions, the
 * records an `AuthStore` keeps (users, sessions, API tokens, audit entries) and the `AuthStore`
 * contract itself, implemented by central (SQL) and the gateway (files), with one conformance
 * suite (tests/server-shared/web-auth/store-conformance.ts).
 */

/**
 * `ingest`: POST events to `/api/ingest` (and `_bulk`); a scope for shippers' tokens, held by admins.
 * `reports`: list, download and generate periodic reports (central/reports), held by analysts.
 * `playbooks`: create, change and delete response playbooks (central/playbooks), held by admins only:
 * a playbook can disable users and block devices (analysts approve, reject and undo runs with `alerts`).
 */
export const PERMISSIONS = ['read', 'alerts', 'rules', 'admin', 'ingest', 'reports', 'playbooks'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['admin', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** SPEC.md §1: viewer = {read}; analyst = {read, alerts, rules, reports}; admin = every permission. */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  analyst: ['read', 'alerts', 'rules', 'reports'],
  viewer: ['read'],
};

export interface UserRecord {
  username: string;
  role: Role;
  /** `scrypt$N$r$p$salt_b64$hash_b64` (password.ts). */
  password_hash: string;
  /** Base32 TOTP secret: set by setup, active once `totp_enabled`. */
  totp_secret: string | null;
  totp_enabled: boolean;
  /** The last RFC 6238 time step accepted for this user: a code is accepted once. */
  totp_last_step: number;
  /** An admin requires this user to use TOTP. */
  require_totp: boolean;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export type UserPatch = Partial<Omit<UserRecord, 'username' | 'created_at' | 'totp_last_step'>> & {
  updated_at: Date;
};

export interface SessionRecord {
  /** SHA-256 (hex) of the cookie value; the value itself is never stored. */
  id_sha256: string;
  username: string;
  csrf_token: string;
  address: string | null;
  created_at: Date;
  last_seen_at: Date;
}

export interface ApiTokenRecord {
  id: string;
  /** SHA-256 (hex) of the token; the token is shown once at creation. */
  token_sha256: string;
  name: string;
  /** Owner: the token never carries more than its owner's role allows. */
  username: string;
  scopes: Permission[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}

export interface AuditInput {
  ts: Date;
  /** Username, `token:<name>` or `-` when unknown (a failed login names the attempted user in target). */
  actor: string;
  /** e.g. `auth.login`, `auth.login_failed`, `user.create`, `POST /api/alerts/:id/comments`. */
  action: string;
  target: string | null;
  address: string | null;
  /** `ok`, `denied`, or an HTTP status for generic API changes. */
  outcome: string;
  /** Small, secret-free details. */
  detail?: Record<string, unknown> | null;
}

export interface AuditEntry extends AuditInput {
  id: number;
  detail: Record<string, unknown> | null;
}

export interface AuditQuery {
  limit: number;
  /** Only entries with an id below this (paging backwards). */
  before?: number;
  actor?: string;
  action?: string;
}

/**
 * Storage of users, sessions, tokens and the audit log. Implementations never interpret policy
 * (expiry, permissions): they store and find. Every method may be called concurrently.
 */
export interface AuthStore {
  countUsers(): Promise<number>;
  getUser(username: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  /** False when the username exists already. */
  createUser(user: UserRecord): Promise<boolean>;
  updateUser(username: string, patch: UserPatch): Promise<UserRecord | undefined>;
  /** Deletes the user with their sessions and tokens; false when there was none. */
  deleteUser(username: string): Promise<boolean>;
  /**
   * Atomically records `step` as the user's last accepted TOTP step if it is later than the
   * last one; false otherwise (a replayed code).
   */
  useTotpStep(username: string, step: number): Promise<boolean>;

  createSession(session: SessionRecord): Promise<void>;
  getSession(idSha256: string): Promise<SessionRecord | undefined>;
  touchSession(idSha256: string, lastSeenAt: Date): Promise<void>;
  deleteSession(idSha256: string): Promise<void>;
  /** Deletes every session of the user except `keep` (a password change keeps the current one). */
  deleteUserSessions(username: string, keep?: string): Promise<number>;
  /**
   * Deletes the sessions last used before `lastSeenBefore` or created before `createdBefore`
   * (expired: session.ts decides the times); returns how many.
   */
  deleteExpiredSessions(lastSeenBefore: Date, createdBefore: Date): Promise<number>;
  /** Keeps the user's `keep` most recently created sessions and deletes the others; returns how many. */
  trimUserSessions(username: string, keep: number): Promise<number>;

  createToken(token: ApiTokenRecord): Promise<void>;
  findToken(tokenSha256: string): Promise<ApiTokenRecord | undefined>;
  /** The tokens of one user, or every token when `username` is undefined; oldest first. */
  listTokens(username?: string): Promise<ApiTokenRecord[]>;
  /** Deletes a token (only the owner's when `username` is given); false when none matched. */
  deleteToken(id: string, username?: string): Promise<boolean>;
  touchToken(id: string, lastUsedAt: Date): Promise<void>;

  /**
   * Login lockouts, kept so that a restart does not lift them (SPEC.md §2): `lock` records that
   * `key` (`u:<username>` or `a:<address>`, limiter.ts) may not log in before `until`, and may drop
   * lockouts that ended before `now`; `lockedUntil` is the latest end among `keys` after `now`.
   */
  lock(key: string, until: Date, now: Date): Promise<void>;
  lockedUntil(keys: string[], now: Date): Promise<Date | undefined>;

  appendAudit(entry: AuditInput): Promise<void>;
  /** Newest first. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;
  close?(): Promise<void>;
}
