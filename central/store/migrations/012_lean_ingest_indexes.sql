-- Lean ingest (issue 18): `events` keeps at ingest only the indexes every batch must pay for, and
-- the expensive ones are built on each hourly partition once its hour has closed
-- (closed-indexes.ts). Measured per index in docs/central.md ("Indexes").
--
-- Text search is by words (event-query.ts): `event_tokens(message)` is the lower-cased message cut
-- at ASCII whitespace, control characters and punctuation other than `_`, so `10.0.3.77` gives
-- 10, 0, 3, 77 and `plc_7` stays whole. A GIN index on it replaces the trigram index of 004, which
-- alone cost more than every B-tree together at ingest; the GIN index is not created on the parent
-- (that would put it on every new partition) but per closed partition.
CREATE FUNCTION event_tokens(message text) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN array_remove(
    string_to_array(
      translate(lower(message), E'\t\n\r\x0b\x0c' || $sep$ !"#$%&'()*+,-./:;<=>?@[\]^`{|}~$sep$, repeat(' ', 37)),
      ' '),
    '');

DROP INDEX events_message_trgm_idx;
-- Low-cardinality columns: a time-ordered scan with a filter serves them as well.
DROP INDEX events_source_ts_idx;
DROP INDEX events_severity_ts_idx;
-- Built per closed partition instead (closed-indexes.ts); the unique key serves gateway meanwhile.
DROP INDEX events_gateway_ts_idx;
DROP INDEX events_action_ts_idx;
-- `received` follows arrival order, so a block range index serves time_field=received ranges for
-- a fraction of a B-tree's cost.
DROP INDEX events_received_idx;
CREATE INDEX events_received_brin ON events USING brin (received);
