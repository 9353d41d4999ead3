-- Alerts (issue 7): raised by detection (central/alerts/raise.ts) or through POST /api/alerts;
-- repeats of one rule on one entity within the group window fold into one row with a count.
-- Every change an analyst (or central) makes is a row of alert_history: who, when, what.

CREATE TABLE alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule_id text NOT NULL,
  rule_title text NOT NULL,
  -- Syslog scale like events (0 = emergency); Sigma levels map onto it (central/alerts/types.ts).
  severity smallint NOT NULL CHECK (severity BETWEEN 0 AND 7),
  techniques text[] NOT NULL DEFAULT '{}',
  tags text[] NOT NULL DEFAULT '{}',
  -- The entity the alert is about: a device id when known, else a host name.
  entity_type text NOT NULL CHECK (entity_type IN ('device', 'host')),
  entity text NOT NULL,
  device_id text,
  host text,
  gateway text,
  site text,
  -- The triggering events (`<gateway>:<seq>`): the first ones, then the latest, bounded.
  event_ids text[] NOT NULL DEFAULT '{}',
  count integer NOT NULL DEFAULT 1 CHECK (count >= 1),
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'acknowledged', 'resolved', 'false_positive')),
  assignee text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Grouping looks up the open alert of (rule, entity); the queue lists by status, newest first.
CREATE INDEX alerts_group_idx ON alerts (rule_id, entity_type, entity, first_seen DESC);
CREATE INDEX alerts_status_idx ON alerts (status, last_seen DESC);
CREATE INDEX alerts_entity_idx ON alerts (entity, last_seen DESC);

CREATE TABLE alert_comments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  author text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_comments_alert_idx ON alert_comments (alert_id, id);

CREATE TABLE alert_history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  -- An API token name, a user, or 'central' for changes central makes itself.
  actor text NOT NULL,
  change text NOT NULL CHECK (change IN ('raised', 'status', 'assignee', 'comment')),
  from_value text,
  to_value text
);
CREATE INDEX alert_history_alert_idx ON alert_history (alert_id, id);

-- While a suppression is active, matching hits raise nothing (they are counted in metrics).
-- A NULL rule_id or entity matches any.
CREATE TABLE alert_suppressions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule_id text,
  entity text,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
  reason text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_suppressions_active_idx ON alert_suppressions (ends_at);
