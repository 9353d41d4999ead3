-- The open hour carries only what exactly-once storage and time ranges need (issue 18, ask 1).
-- Measured in docs/central.md ("Indexes"): the three B-trees left on `events` by 012 took a COPY
-- from ~6 to ~13-18 µs of the PostgreSQL backend's CPU per row, about half of it for one index
-- each (lower(host), device_id, and the listing order). They are built per partition once its
-- hour has closed instead (closed-indexes.ts), with the word and action indexes; the hour still
-- open (and an hour up to ~6 minutes after its end, until the builder has run) is searched through
-- a block range index on ts plus a filter on its rows. The unique key stays: it is how a re-sent
-- batch is recognised (event-copy.ts).
DROP INDEX events_ts_idx;
DROP INDEX events_host_ts_idx;
DROP INDEX events_device_ts_idx;
-- Rows arrive in about ts order, so a range index of ts finds an hour's slice of the open
-- partition for a fraction of a B-tree's cost. `autosummarize` summarises each filled block range
-- at once (autovacuum work item) rather than at the next VACUUM: unsummarised ranges are always read.
CREATE INDEX events_ts_brin ON events USING brin (ts) WITH (autosummarize = on);
-- The DEFAULT partition (absurd timestamps) never closes: it keeps the B-trees it had.
CREATE INDEX events_default_listing ON events_default (ts DESC, gateway DESC, seq DESC);
CREATE INDEX events_default_host ON events_default (lower(host), ts DESC);
CREATE INDEX events_default_device ON events_default (device_id, ts DESC);
