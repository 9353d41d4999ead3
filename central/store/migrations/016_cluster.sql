-- Several central nodes on one PostgreSQL (issue 22, central/cluster/). Written only when
-- `cluster.enabled` is set; a single node leaves these tables empty and pays nothing at ingest.
--
-- event_feed: one row per committed insert of events, written in the insert's own transaction,
-- naming the events it stored (gateway and seq of each, and their time range for partition
-- pruning). The cluster's leader reads it in commit order to run central's correlations once
-- over the events every node stored. `xid` is the inserting transaction (pg_current_xact_id):
-- a reader takes only rows whose transaction is older than its snapshot's xmin, so a row
-- committed late by a slow transaction is never skipped by a cursor that already moved past
-- a younger one (what a bigserial alone would allow: ids are handed out before commit).
CREATE TABLE event_feed (
  id         bigserial NOT NULL,
  xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
  node       text NOT NULL,
  gateways   text[] NOT NULL,
  seqs       bigint[] NOT NULL,
  ts_min     timestamptz NOT NULL,
  ts_max     timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (xid, id)
);
CREATE INDEX event_feed_created_idx ON event_feed (created_at);

-- Where a consumer of the feed is: the last (xid, id) it handled. Moved by the leader after
-- each page it handled; a new leader replays the feed before it silently (windows) and handles
-- what follows.
CREATE TABLE cluster_cursors (
  name       text PRIMARY KEY,
  xid        xid8 NOT NULL,
  id         bigint NOT NULL,
  node       text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Each node's heartbeat and the gateways connected to it, so that any node answers for the
-- whole cluster (fleet view, live stream) and a rule push finds the node holding the gateway.
CREATE TABLE cluster_nodes (
  node         text PRIMARY KEY,
  url          text,
  started_at   timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  leader       boolean NOT NULL DEFAULT false,
  gateways     jsonb NOT NULL DEFAULT '[]'
);
