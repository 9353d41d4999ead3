-- Access control (issue 8, protocols/web-auth/SPEC.md): users with a role, server-side sessions
-- and API tokens (both stored as SHA-256, never in clear), and the append-only audit log of
-- every login and every change. Deleting a user deletes their sessions and tokens.
CREATE TABLE users (
  username text PRIMARY KEY,
  role text NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
  password_hash text NOT NULL,
  totp_secret text,
  totp_enabled boolean NOT NULL DEFAULT false,
  totp_last_step bigint NOT NULL DEFAULT 0,
  require_totp boolean NOT NULL DEFAULT false,
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE sessions (
  id_sha256 text PRIMARY KEY,
  username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  csrf_token text NOT NULL,
  address text,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
CREATE INDEX sessions_username_idx ON sessions (username);

CREATE TABLE api_tokens (
  id text PRIMARY KEY,
  token_sha256 text NOT NULL UNIQUE,
  name text NOT NULL,
  username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  scopes text[] NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  last_used_at timestamptz
);
CREATE INDEX api_tokens_username_idx ON api_tokens (username);

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  ts timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  target text,
  address text,
  outcome text NOT NULL,
  detail jsonb
);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
