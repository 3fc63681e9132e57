-- The tracker's peers as they stood at the cut of the last credit batch written: every peer of every
-- swarm (kept = false) and the kept counters of dropped peers (the grace store, kept = true). Rows
-- change in the same transaction as the credit batch they go with, so what is here is always the
-- baseline the written credit was computed up to: reloaded at start, the next announce is credited
-- its delta and nothing twice. No foreign keys (each write would check them): rows of a member or a
-- torrent that is gone are dropped at start.
create table tracker_peers (
  torrent_id bigint not null,
  user_id bigint not null,
  peer_id bytea not null,
  kept boolean not null,
  address bytea not null,
  port integer not null,
  seeder boolean not null,
  last_seen bigint not null,
  uploaded bigint not null,
  downloaded bigint not null,
  left_bytes double precision not null,
  primary key (torrent_id, user_id, peer_id)
) with (fillfactor = 70);
