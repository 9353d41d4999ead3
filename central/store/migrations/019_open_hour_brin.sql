-- The open hour carries only what exactly-once storage, time ranges and the main filter need
-- (issue 18, ask 1). Measured in docs/central.md ("Indexes"): the three B-trees 012 left beside the
-- unique key took a COPY from ~6 to ~13-18 µs of the PostgreSQL backend's CPU per row. Two of them
-- are built per partition once its hour has closed instead (closed-indexes.ts), with the word and
-- action indexes: the listing order, whose newest-first pages of the open hour a block range index
-- on ts and a sort serve, and device_id. `lower(host)` stays on `events`: `host=` is the dashboard's
-- main filter and how an alert finds its related events, both mostly in the open hour, where
-- without it every row of the hour would be read. The unique key stays: it is how a re-sent batch
-- is recognised (event-copy.ts).
DROP INDEX events_ts_idx;
DROP INDEX events_device_ts_idx;
-- Rows arrive in about ts order, so a range index of ts finds an hour's slice of the open
-- partition for a fraction of a B-tree's cost. `autosummarize` summarises each filled block range
-- at once (autovacuum work item) rather than at the next VACUUM: unsummarised ranges are always read.
CREATE INDEX events_ts_brin ON events USING brin (ts) WITH (autosummarize = on);
-- The DEFAULT partition (absurd timestamps) never closes: it keeps the B-trees it had.
CREATE INDEX events_default_listing ON events_default (ts DESC, gateway DESC, seq DESC);
CREATE INDEX events_default_device ON events_default (device_id, ts DESC);
