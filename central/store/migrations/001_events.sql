-- Events, one row per stored Event (protocols/event/schema.ts), partitioned by day on ts
-- (DESIGN.md "Storage"). Daily partitions events_pYYYYMMDD are created by partitions.ts;
-- events_default catches timestamps outside every daily partition (a device with no RTC, a typo).
-- This file runs unchanged on PostgreSQL and PGlite; an applied migration is never edited.

CREATE TABLE events (
  id                 text NOT NULL,
  -- "C" collation: ordering and keyset pagination compare gateway ids byte-wise, identically
  -- on every server whatever its locale.
  gateway            text COLLATE "C" NOT NULL,
  seq                bigint NOT NULL,
  ts                 timestamptz NOT NULL,
  received           timestamptz NOT NULL,
  -- bigint, not int: a Pi without RTC boots in 1970, an offset of ~1.7e12 ms.
  clock_offset_ms    bigint,
  source             text NOT NULL,
  kind               text NOT NULL,
  action             text NOT NULL,
  severity           smallint NOT NULL,
  message            text NOT NULL,
  host               text,
  device_id          text,
  device_protocol_id text,
  device_name        text,
  src_ip             text,
  src_port           integer,
  dst_ip             text,
  dst_port           integer,
  fields             jsonb NOT NULL DEFAULT '{}',
  tags               text[] NOT NULL DEFAULT '{}',
  threat             jsonb,
  v                  smallint NOT NULL,
  stored_at          timestamptz NOT NULL DEFAULT now(),
  -- Exactly once in storage: a re-sent event is byte-identical, so (gateway, seq, ts) repeats.
  -- A unique constraint on a partitioned table must contain the partition key (ts).
  -- It also serves lookups by (gateway, seq).
  CONSTRAINT events_gateway_seq_ts_key UNIQUE (gateway, seq, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE events_default PARTITION OF events DEFAULT;

-- The API's listing order (ts DESC, gateway DESC, seq DESC) and its keyset cursor, whole.
CREATE INDEX events_ts_idx ON events (ts DESC, gateway DESC, seq DESC);
-- Host filters compare case-insensitively: lower(host) = lower($n).
CREATE INDEX events_host_ts_idx ON events (lower(host), ts DESC);
CREATE INDEX events_source_ts_idx ON events (source, ts DESC);
CREATE INDEX events_severity_ts_idx ON events (severity, ts DESC);
