/**
 * Central's `AuthStore` (server-shared/web-auth/types.ts) on its database, PGlite or PostgreSQL,
 * through the shared `SqlExecutor`: tables of migration 008_auth.sql. Every statement is
 * parameterised; the replayed-TOTP check is one conditional UPDATE, so it is atomic across nodes.
 */
import type {
  ApiTokenRecord,
  AuditEntry,
  AuditInput,
  AuditQuery,
  AuthStore,
  Permission,
  Role,
  SessionRecord,
  UserPatch,
  UserRecord,
} from '../../server-shared/web-auth/types.ts';
import type { SqlClient } from '../store/sql-client.ts';

type Row = Record<string, unknown>;

const date = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));
const dateOrNull = (v: unknown) => (v === null || v === undefined ? null : date(v));

function user(r: Row): UserRecord {
  return {
    username: String(r.username),
    role: r.role as Role,
    password_hash: String(r.password_hash),
    totp_secret: (r.totp_secret as string | null) ?? null,
    totp_enabled: Boolean(r.totp_enabled),
    totp_last_step: Number(r.totp_last_step),
    require_totp: Boolean(r.require_totp),
    disabled: Boolean(r.disabled),
    created_at: date(r.created_at),
    updated_at: date(r.updated_at),
  };
}

function session(r: Row): SessionRecord {
  return {
    id_sha256: String(r.id_sha256),
    username: String(r.username),
    csrf_token: String(r.csrf_token),
    address: (r.address as string | null) ?? null,
    created_at: date(r.created_at),
    last_seen_at: date(r.last_seen_at),
  };
}

function token(r: Row): ApiTokenRecord {
  return {
    id: String(r.id),
    token_sha256: String(r.token_sha256),
    name: String(r.name),
    username: String(r.username),
    scopes: r.scopes as Permission[],
    created_at: date(r.created_at),
    expires_at: dateOrNull(r.expires_at),
    last_used_at: dateOrNull(r.last_used_at),
  };
}

function audit(r: Row): AuditEntry {
  return {
    id: Number(r.id),
    ts: date(r.ts),
    actor: String(r.actor),
    action: String(r.action),
    target: (r.target as string | null) ?? null,
    address: (r.address as string | null) ?? null,
    outcome: String(r.outcome),
    detail: (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail) as Record<
      string,
      unknown
    > | null,
  };
}

const PATCHABLE = [
  'role',
  'password_hash',
  'totp_secret',
  'totp_enabled',
  'require_totp',
  'disabled',
  'updated_at',
] as const;

export function createSqlAuthStore(sql: SqlClient): AuthStore {
  return {
    async countUsers() {
      const { rows } = await sql.query<{ n: unknown }>('SELECT count(*) AS n FROM users');
      return Number(rows[0]!.n);
    },
    async getUser(username) {
      const { rows } = await sql.query('SELECT * FROM users WHERE username = $1', [username]);
      return rows[0] ? user(rows[0]) : undefined;
    },
    async listUsers() {
      return (await sql.query('SELECT * FROM users ORDER BY username')).rows.map(user);
    },
    async createUser(u) {
      const { rowCount } = await sql.query(
        `INSERT INTO users (username, role, password_hash, totp_secret, totp_enabled, totp_last_step,
           require_totp, disabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (username) DO NOTHING`,
        [
          u.username,
          u.role,
          u.password_hash,
          u.totp_secret,
          u.totp_enabled,
          u.totp_last_step,
          u.require_totp,
          u.disabled,
          u.created_at,
          u.updated_at,
        ],
      );
      return rowCount === 1;
    },
    async updateUser(username, patch: UserPatch) {
      const sets: string[] = [];
      const params: unknown[] = [username];
      for (const key of PATCHABLE) {
        if (patch[key] === undefined) continue;
        params.push(patch[key]);
        sets.push(`${key} = $${params.length}`);
      }
      const { rows } = await sql.query(
        `UPDATE users SET ${sets.join(', ')} WHERE username = $1 RETURNING *`,
        params,
      );
      return rows[0] ? user(rows[0]) : undefined;
    },
    async deleteUser(username) {
      return (await sql.query('DELETE FROM users WHERE username = $1', [username])).rowCount === 1;
    },
    async lock(key, until, now) {
      await sql.query('DELETE FROM auth_lockouts WHERE locked_until <= $1', [now]);
      await sql.query(
        `INSERT INTO auth_lockouts (key, locked_until) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET locked_until = GREATEST(auth_lockouts.locked_until, EXCLUDED.locked_until)`,
        [key, until],
      );
    },
    async lockedUntil(keys, now) {
      const { rows } = await sql.query<{ until: Date | null }>(
        'SELECT max(locked_until) AS until FROM auth_lockouts WHERE key = ANY($1::text[]) AND locked_until > $2',
        [keys, now],
      );
      const until = rows[0]?.until;
      return until ? new Date(until) : undefined;
    },
    async useTotpStep(username, step) {
      const { rowCount } = await sql.query(
        'UPDATE users SET totp_last_step = $2 WHERE username = $1 AND totp_last_step < $2',
        [username, step],
      );
      return rowCount === 1;
    },

    async createSession(s) {
      await sql.query(
        `INSERT INTO sessions (id_sha256, username, csrf_token, address, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [s.id_sha256, s.username, s.csrf_token, s.address, s.created_at, s.last_seen_at],
      );
    },
    async getSession(id) {
      const { rows } = await sql.query('SELECT * FROM sessions WHERE id_sha256 = $1', [id]);
      return rows[0] ? session(rows[0]) : undefined;
    },
    async touchSession(id, at) {
      await sql.query('UPDATE sessions SET last_seen_at = $2 WHERE id_sha256 = $1', [id, at]);
    },
    async deleteSession(id) {
      await sql.query('DELETE FROM sessions WHERE id_sha256 = $1', [id]);
    },
    async deleteUserSessions(username, keep) {
      const { rowCount } = await sql.query(
        'DELETE FROM sessions WHERE username = $1 AND id_sha256 IS DISTINCT FROM $2',
        [username, keep ?? null],
      );
      return rowCount;
    },
    async deleteExpiredSessions(lastSeenBefore, createdBefore) {
      const { rowCount } = await sql.query(
        'DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2',
        [lastSeenBefore, createdBefore],
      );
      return rowCount;
    },
    async trimUserSessions(username, keep) {
      // One statement: concurrent logins of the same user cannot both keep `keep` rows each.
      const { rowCount } = await sql.query(
        `DELETE FROM sessions WHERE username = $1 AND id_sha256 NOT IN (
           SELECT id_sha256 FROM sessions WHERE username = $1
           ORDER BY created_at DESC, id_sha256 DESC LIMIT $2)`,
        [username, keep],
      );
      return rowCount;
    },

    async createToken(t) {
      await sql.query(
        `INSERT INTO api_tokens (id, token_sha256, name, username, scopes, created_at, expires_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [t.id, t.token_sha256, t.name, t.username, t.scopes, t.created_at, t.expires_at, t.last_used_at],
      );
    },
    async findToken(digest) {
      const { rows } = await sql.query('SELECT * FROM api_tokens WHERE token_sha256 = $1', [digest]);
      return rows[0] ? token(rows[0]) : undefined;
    },
    async listTokens(username) {
      const { rows } =
        username === undefined
          ? await sql.query('SELECT * FROM api_tokens ORDER BY created_at, id')
          : await sql.query('SELECT * FROM api_tokens WHERE username = $1 ORDER BY created_at, id', [
              username,
            ]);
      return rows.map(token);
    },
    async deleteToken(id, username) {
      const { rowCount } =
        username === undefined
          ? await sql.query('DELETE FROM api_tokens WHERE id = $1', [id])
          : await sql.query('DELETE FROM api_tokens WHERE id = $1 AND username = $2', [id, username]);
      return rowCount === 1;
    },
    async touchToken(id, at) {
      await sql.query('UPDATE api_tokens SET last_used_at = $2 WHERE id = $1', [id, at]);
    },

    async appendAudit(e: AuditInput) {
      await sql.query(
        `INSERT INTO audit_log (ts, actor, action, target, address, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [e.ts, e.actor, e.action, e.target, e.address, e.outcome, e.detail ? JSON.stringify(e.detail) : null],
      );
    },
    async listAudit(q: AuditQuery) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (clause: string, value: unknown) => {
        params.push(value);
        where.push(clause.replace('?', `$${params.length}`));
      };
      if (q.before !== undefined) add('id < ?', q.before);
      if (q.actor !== undefined) add('actor = ?', q.actor);
      if (q.action !== undefined) add('action = ?', q.action);
      params.push(q.limit);
      const { rows } = await sql.query(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map(audit);
    },
  };
}
