-- Detection rules managed on central (issue 6, central/rules/store.ts): one row per Sigma document
-- (rule, correlation or filter), shipped (`builtin:<file>`) or uploaded, for the edge (pushed to
-- gateways) or for central's own engine; the rule sets pushed to gateways, named by the SHA-256 of
-- their documents (link SPEC §8); and per gateway the set assigned to it and the set it reports
-- running, with its last refusal.
CREATE TABLE rules (
  id text PRIMARY KEY,
  title text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('detection', 'correlation', 'filter')),
  level text,
  tags text[] NOT NULL DEFAULT '{}',
  target text NOT NULL CHECK (target IN ('edge', 'central')),
  source text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  yaml text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text
);
CREATE INDEX rules_target_idx ON rules (target, id);

CREATE TABLE rule_sets (
  version text PRIMARY KEY,
  id text NOT NULL,
  documents jsonb NOT NULL,
  rules integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text
);

CREATE TABLE gateway_rules (
  gateway text PRIMARY KEY REFERENCES gateways (id) ON DELETE CASCADE,
  assigned_version text REFERENCES rule_sets (version),
  assigned_at timestamptz,
  running_set_id text,
  running_version text,
  reported_at timestamptz,
  last_error text,
  last_error_at timestamptz
);
