-- Central's device inventory (issue 7), merged from every gateway's events: one row per device
-- id with first/last seen, the gateways that saw it, the protocols it spoke and its identity.
-- Upserts are idempotent (least/greatest/union), so a re-sent batch changes nothing.
CREATE TABLE devices (
  device_id text PRIMARY KEY,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  gateways text[] NOT NULL DEFAULT '{}',
  protocols text[] NOT NULL DEFAULT '{}',
  protocol_id text,
  name text,
  host text
);
CREATE INDEX devices_last_seen_idx ON devices (last_seen DESC);
