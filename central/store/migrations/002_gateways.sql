-- The gateway registry and one-time enrollment tokens (central/gateways/registry.ts), and the
-- sequence of events central raises itself (security refusals, clock skew).

CREATE TABLE gateways (
  id text PRIMARY KEY,
  -- Ed25519 public key (SPKI PEM) the gateway proves possession of on every link connection.
  public_key text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  enrolled_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  last_seen_at timestamptz,
  clock_offset_ms bigint
);

CREATE TABLE enrollment_tokens (
  -- Only the SHA-256 of a token is stored; the token itself is shown once, when created.
  token_sha256 text PRIMARY KEY,
  -- When set, the token enrolls only this gateway id (and may re-enroll it with a new key).
  gateway_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  used_by text,
  created_by text
);

CREATE SEQUENCE central_event_seq;
