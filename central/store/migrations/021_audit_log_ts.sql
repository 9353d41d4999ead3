-- The lifecycle job deletes audit rows older than storage.retention.audit_days (retention-rows.ts):
-- by time, in chunks, without reading the whole table each hour.
CREATE INDEX audit_log_ts_idx ON audit_log (ts);
