/**
 * The access-control API both servers mount under `/api` (server-shared/web-auth/routes.ts,
 * SPEC.md §2–§3): the user list, one user and the audit log, as the dashboards read them. Types
 * only, like the rest of protocols/api: the routes check their answers against them.
 */

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
