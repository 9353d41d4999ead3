-- The durable outbox of the forwarding sinks (central/sinks/): one row per (alert, sink), written
-- in the transaction that creates the alert, so nothing is lost while a receiver is down or
-- central restarts. A row is delivered, rejected for good (the receiver refused it), or pending
-- with its next attempt time (exponential backoff). The idempotency key travels with every
-- attempt so a receiver can drop a repeat (delivery is at least once).
CREATE TABLE sink_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sink text NOT NULL,
  alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  -- The alert as it was when queued: what is sent, identical on every attempt.
  payload jsonb NOT NULL,
  idempotency_key text NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'rejected')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  done_at timestamptz
);
CREATE INDEX sink_outbox_due_idx ON sink_outbox (sink, next_attempt_at, id) WHERE status = 'pending';
