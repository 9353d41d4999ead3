-- Searches by arrival time (issue 15 item 12): `time_field=received` filters and buckets on
-- `received` instead of the device's `ts`, so backdated events cannot hide from a time range.
-- The table is partitioned by ts, so a range on received visits every partition; this index
-- (created on each partition) keeps that to one index probe per partition.
CREATE INDEX events_received_idx ON events (received DESC);
