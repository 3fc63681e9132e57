-- Byte conservation's upload claims and downloads still waiting for each other, as they stood at
-- the cut of the last credit batch written: the rows of a torrent are replaced in the same
-- transaction as the credit batch (like tracker_peers), so a restart reloads exactly the claims
-- the written credit has not paid yet. kind 0: a claim (bytes claimed, unpaid); kind 1: download
-- backing not yet shared (bytes), with the bytes reported this period (fed) and its start.
-- Times are Unix seconds. No foreign keys: rows of a member or a torrent that is gone are dropped
-- at start.
create table tracker_claims (
  torrent_id bigint not null,
  user_id bigint not null,
  kind smallint not null check (kind in (0, 1)),
  bytes double precision not null,
  fed double precision not null,
  at_seconds double precision not null,
  start_seconds double precision not null,
  primary key (torrent_id, user_id, kind)
);

-- Whether a peer's address and port accepted a BitTorrent handshake for a torrent, as the tracker
-- process's prober last found (src/bridge/prober.ts). One row per (address, port, info_hash): no
-- row is "unknown". Written only by the process that runs the tracker.
create table peer_probes (
  address bytea not null,
  port integer not null,
  info_hash bytea not null,
  connectable boolean not null,
  probed_at timestamptz not null,
  primary key (address, port, info_hash)
);
create index peer_probes_probed_at on peer_probes (probed_at);
