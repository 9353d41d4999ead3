-- The raises of central's detection, by a key of their content (central/alerts/raise.ts): a raise
-- whose key is here already changes nothing. A new cluster leader replays the event feed to reopen
-- the windows of the one before (central/cluster/leader.ts), and a restarted node its stored
-- events (central/detection.ts); what they raise again (a hit whose alert committed before the
-- cursor was saved, a group the previous engine had already closed) must not add to a count.
-- Kept a day (central/alerts/index.ts prunes older keys).
CREATE TABLE alert_raise_keys (
  key text PRIMARY KEY,
  at  timestamptz NOT NULL
);
CREATE INDEX alert_raise_keys_at_idx ON alert_raise_keys (at);
