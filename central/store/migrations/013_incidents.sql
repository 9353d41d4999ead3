-- Incidents (issue 21): alerts that share an attacker (a source address, else a user name) within
-- the incident window fold into one incident with its child alerts (central/incidents). An
-- incident has the alert lifecycle: status, assignee, comments, and a history of every change.

CREATE TABLE incidents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Who the incident is about: 'address' (source or client address) or 'user'.
  attacker_kind text NOT NULL CHECK (attacker_kind IN ('address', 'user')),
  attacker text NOT NULL,
  title text NOT NULL,
  -- The most severe child's (syslog scale, 0 = emergency).
  severity smallint NOT NULL CHECK (severity BETWEEN 0 AND 7),
  alert_count integer NOT NULL DEFAULT 0 CHECK (alert_count >= 0),
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'acknowledged', 'resolved', 'false_positive')),
  assignee text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Folding looks up the open incidents of one attacker near a time; the list is newest first.
CREATE INDEX incidents_attacker_idx ON incidents (attacker_kind, attacker, last_seen DESC);
CREATE INDEX incidents_status_idx ON incidents (status, id DESC);

-- An alert belongs to at most one incident.
CREATE TABLE incident_alerts (
  alert_id bigint PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
  incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_alerts_incident_idx ON incident_alerts (incident_id, alert_id);

CREATE TABLE incident_comments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  author text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_comments_incident_idx ON incident_comments (incident_id, id);

CREATE TABLE incident_history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  -- An API token name, a user, or 'central' for changes central makes itself.
  actor text NOT NULL,
  -- 'alert': a child alert joined (to_value is its id); 'merged': another incident's children
  -- moved here because an alert bridged the two (from_value is its id).
  change text NOT NULL CHECK (change IN ('opened', 'alert', 'merged', 'status', 'assignee', 'comment')),
  from_value text,
  to_value text
);
CREATE INDEX incident_history_incident_idx ON incident_history (incident_id, id);
