-- The cluster leader's cursor read of the event feed (central/cluster/feed.ts readFeed:
-- `WHERE id > $1 ORDER BY id LIMIT $2`, and readFeedBefore's `id <= $1 ORDER BY id DESC`). The
-- primary key of migration 016 leads with `xid`, which the feed no longer orders by, so without
-- this index each read sorts the whole unpruned feed (up to feed_retention_secs of inserts).
CREATE INDEX event_feed_id_idx ON event_feed (id);
