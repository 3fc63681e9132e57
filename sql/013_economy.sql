-- The tracker's history per member and torrent, the peers in each swarm, and freeleech.
--
-- Per (member, torrent): what the client reported (before caps and factors), seconds spent
-- seeding (each step capped by the announce interval), when it first and last announced, and
-- whether the member has a seeder or a leecher in the swarm right now.
alter table user_torrent_stats
  add column reported_uploaded bigint not null default 0,
  add column reported_downloaded bigint not null default 0,
  add column seed_seconds bigint not null default 0,
  add column first_announce_at timestamptz,
  add column last_announce_at timestamptz,
  add column seeding boolean not null default false,
  add column leeching boolean not null default false;
create index user_torrent_stats_user_last on user_torrent_stats (user_id, last_announce_at desc nulls last);

-- Site-wide factor windows ("freeleech weekend"), set by an admin.
create table freeleech_windows (
  id bigserial primary key,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  download_factor numeric not null,
  upload_factor numeric not null,
  note text not null default '',
  created_by bigint references users (id) on delete set null,
  check (ends_at > starts_at)
);
create index freeleech_windows_ends_at on freeleech_windows (ends_at);

-- A torrent's own factors: freeleech = download 0, neutral = both 0, double upload = upload 2.
-- Bounded so that no credit can be multiplied past what a row may carry.
alter table torrents
  add column download_factor numeric not null default 1,
  add column upload_factor numeric not null default 1,
  add column freeleech_requested boolean not null default false;
alter table torrents
  add constraint torrents_download_factor_range check (download_factor >= 0 and download_factor <= 10),
  add constraint torrents_upload_factor_range check (upload_factor >= 0 and upload_factor <= 10);
alter table freeleech_windows
  add constraint freeleech_windows_download_factor_range check (download_factor >= 0 and download_factor <= 10),
  add constraint freeleech_windows_upload_factor_range check (upload_factor >= 0 and upload_factor <= 10);

-- Members may hide their name in peer lists (staff still see it).
alter table users add column anonymous boolean not null default false;

-- The peers in each swarm, as the tracker last reported them (a few seconds behind). No address
-- is kept. Rows go when the peer stops or is reaped, and when the tracker run that wrote them is
-- gone (older than the peer timeout).
create table torrent_peers (
  torrent_id bigint not null references torrents (id) on delete cascade,
  peer_id bytea not null check (length(peer_id) = 20),
  user_id bigint not null references users (id) on delete cascade,
  uploaded bigint not null,
  downloaded bigint not null,
  "left" bigint not null,
  seeder boolean not null,
  started_at timestamptz not null,
  announced_at timestamptz not null,
  primary key (torrent_id, peer_id)
);
create index torrent_peers_announced_at on torrent_peers (announced_at);
