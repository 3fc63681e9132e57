-- Torrents a member keeps for later: private to the member, newest first.
create table bookmarks (
  user_id bigint not null references users (id) on delete cascade,
  torrent_id bigint not null references torrents (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (user_id, torrent_id)
);
create index bookmarks_user_created on bookmarks (user_id, created_at desc, torrent_id desc);
