-- Periodic reports (issue 21 ask 5, central/reports): one row per generated report, its HTML,
-- CSV and PDF kept for download. A scheduled report claims its period by inserting its row:
-- the unique key (schedule, period_start) lets exactly one central node win the INSERT ... ON
-- CONFLICT DO NOTHING, so each period is reported once however many nodes run the scheduler.
-- On-demand reports (schedule NULL) are not unique: an analyst may generate a period twice.

CREATE TABLE reports (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The configured schedule's name; NULL for a report generated on demand.
  schedule text,
  period text NOT NULL CHECK (period IN ('daily', 'weekly', 'custom')),
  -- 'fleet' or the name of a configured site.
  scope text NOT NULL,
  time_zone text NOT NULL,
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL CHECK (period_end > period_start),
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
  -- The node (central.id) that claimed the row and when; a running claim older than the stale
  -- limit is taken over by another node (its generator died with it).
  claimed_by text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 1,
  requested_by text,
  html text,
  csv text,
  pdf bytea,
  -- Why there is no PDF (no Chromium on this node, a print failure); NULL when there is one.
  pdf_error text,
  -- A short summary for the list: alert, event and new-device counts.
  summary jsonb NOT NULL DEFAULT '{}',
  -- Per destination: { "<name>": { "ok": bool, "at": iso, "error"?: text } }.
  delivery jsonb NOT NULL DEFAULT '{}',
  error text,
  finished_at timestamptz
);
CREATE UNIQUE INDEX reports_schedule_period_key ON reports (schedule, period_start) WHERE schedule IS NOT NULL;
CREATE INDEX reports_list_idx ON reports (id DESC);
