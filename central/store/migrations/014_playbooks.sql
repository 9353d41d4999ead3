-- Response playbooks (issue 21 ask 4, central/playbooks): "when an alert matches, do these
-- actions", optionally after an analyst's approval. A run is one playbook on one alert (central
-- triggered) or on one local alert of a gateway (reported by its audit events); its actions are
-- the concrete steps, each with its outcome and what undoing it needs. Every step of a run and of
-- its undo is in playbook_audit, with who or what did it.

CREATE TABLE playbooks (
  id text PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  enabled boolean NOT NULL DEFAULT true,
  approval boolean NOT NULL DEFAULT false,
  -- protocols/playbook/schema.ts: the match criteria and the actions, as the API took them.
  match jsonb NOT NULL,
  actions jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL
);

CREATE TABLE playbook_runs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- No foreign key: a run outlives its playbook (the audit trail is kept).
  playbook_id text NOT NULL,
  playbook_name text NOT NULL,
  -- 'central': central matched one of its alerts; 'gateway': a gateway ran it on a local alert.
  trigger text NOT NULL CHECK (trigger IN ('central', 'gateway')),
  alert_id bigint REFERENCES alerts (id) ON DELETE SET NULL,
  gateway text,
  -- The gateway's own alert id (a local run), which keys its actions to one run.
  gateway_alert text,
  rule_id text,
  status text NOT NULL CHECK (status IN ('pending', 'rejected', 'running', 'done', 'failed')),
  decided_by text,
  decided_at timestamptz,
  reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- A playbook runs once per alert, whatever number of times the alert is seen again.
CREATE UNIQUE INDEX playbook_runs_alert_idx ON playbook_runs (playbook_id, alert_id) WHERE alert_id IS NOT NULL;
CREATE UNIQUE INDEX playbook_runs_local_idx ON playbook_runs (playbook_id, gateway, gateway_alert)
  WHERE gateway_alert IS NOT NULL;
CREATE INDEX playbook_runs_status_idx ON playbook_runs (status, id DESC);

CREATE TABLE playbook_actions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id bigint NOT NULL REFERENCES playbook_runs (id) ON DELETE CASCADE,
  -- The action's place in its playbook.
  idx integer NOT NULL,
  type text NOT NULL,
  -- The action made concrete (its target), and the gateway it runs on for a gateway action.
  params jsonb NOT NULL,
  gateway text,
  -- pending: waits for approval; queued: a command waits for its gateway to connect; sent: sent,
  -- no answer yet; skipped: nothing to do (no target); edge: the gateway runs it itself.
  status text NOT NULL CHECK (status IN ('pending', 'queued', 'sent', 'succeeded', 'failed', 'skipped',
    'edge', 'undoing', 'undone', 'undo_failed', 'rejected')),
  error text,
  -- What undoing it needs (the gateway's entry id, the token record that was removed, …).
  undo jsonb,
  -- The gateway event that reported a local action (idempotent on re-sent batches).
  event_id text UNIQUE,
  executed_at timestamptz,
  undone_at timestamptz,
  undone_by text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX playbook_actions_run_idx ON playbook_actions (run_id, id);
CREATE INDEX playbook_actions_queued_idx ON playbook_actions (gateway, id) WHERE status IN ('queued', 'undoing');

CREATE TABLE playbook_audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  -- A user, an API token's name, 'central', or 'gateway:<id>'.
  actor text NOT NULL,
  playbook_id text,
  run_id bigint,
  action_id bigint,
  what text NOT NULL CHECK (what IN ('created', 'updated', 'deleted', 'triggered', 'approved', 'rejected',
    'executed', 'undo_requested', 'undone', 'pushed')),
  outcome text NOT NULL,
  detail jsonb
);
CREATE INDEX playbook_audit_run_idx ON playbook_audit (run_id, id);
CREATE INDEX playbook_audit_id_idx ON playbook_audit (id DESC);
