-- Indexes for the SOC's real queries (issue 7): a time range combined with device, action or
-- gateway (host, source and severity already have theirs in 001), and free-text search.
--
-- Free text: a trigram GIN index (pg_trgm), not to_tsvector full-text. The API's `q` is a
-- case-insensitive substring (`message ILIKE '%…%'`), and OT messages are mostly tokens that
-- full-text parsing mangles or stems away: IP addresses, MAC addresses, register numbers, hex,
-- paths, "plc-7". A trigram index serves ILIKE on any substring of three or more characters
-- with unchanged semantics (shorter ones fall back to the time-range scan), so results stay the
-- same with or without the index. PGlite loads the same extension (central/store/pglite.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX events_message_trgm_idx ON events USING gin (message gin_trgm_ops);

CREATE INDEX events_device_ts_idx ON events (device_id, ts DESC);
CREATE INDEX events_action_ts_idx ON events (action, ts DESC);
-- The unique key (gateway, seq, ts) cannot serve "one gateway, newest first in a time range".
CREATE INDEX events_gateway_ts_idx ON events (gateway, ts DESC);
