-- Members, roles, sessions, invites, torrents and per-member torrent statistics.

create table users (
  id bigint generated always as identity primary key,
  name text not null,
  password_hash text not null,
  passkey text not null unique check (passkey ~ '^[0-9a-f]{32}$'),
  created_at timestamptz not null default now(),
  disabled boolean not null default false,
  uploaded bigint not null default 0 check (uploaded >= 0),
  downloaded bigint not null default 0 check (downloaded >= 0)
);
create unique index users_name_key on users (lower(name));

create table roles (
  name text primary key,
  description text not null
);
insert into roles (name, description) values
  ('upload', 'May upload torrents'),
  ('invite', 'May create invites'),
  ('moderate', 'May edit and delete any torrent and disable or enable members'),
  ('admin', 'May grant and revoke roles');

create table user_roles (
  user_id bigint not null references users (id) on delete cascade,
  role text not null references roles (name) on delete cascade,
  granted_at timestamptz not null default now(),
  granted_by bigint references users (id) on delete set null,
  primary key (user_id, role)
);

create table sessions (
  id bigint generated always as identity primary key,
  token_hash bytea not null unique,
  user_id bigint not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  last_seen_at timestamptz not null default now()
);
create index sessions_user_id on sessions (user_id);

create table invites (
  id bigint generated always as identity primary key,
  secret_hash bytea not null unique,
  inviter_id bigint references users (id) on delete set null,
  invitee_id bigint references users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  claimed_at timestamptz,
  revoked_at timestamptz
);
create index invites_inviter_id on invites (inviter_id);

create table torrents (
  id bigint generated always as identity primary key,
  info_hash bytea not null unique check (length(info_hash) = 20),
  info_hash_v2 bytea unique check (length(info_hash_v2) = 32),
  title text not null,
  description text not null default '',
  size bigint not null check (size >= 0),
  files jsonb not null,
  creator_id bigint references users (id) on delete set null,
  created_at timestamptz not null default now(),
  metainfo bytea not null,
  seeders integer not null default 0,
  leechers integer not null default 0,
  snatches integer not null default 0,
  search tsvector generated always as (to_tsvector('simple', title)) stored
);
create index torrents_search on torrents using gin (search);
create index torrents_created_at on torrents (created_at desc, id desc);
create index torrents_creator_id on torrents (creator_id);

create table user_torrent_stats (
  user_id bigint not null references users (id) on delete cascade,
  torrent_id bigint not null references torrents (id) on delete cascade,
  uploaded bigint not null default 0 check (uploaded >= 0),
  downloaded bigint not null default 0 check (downloaded >= 0),
  completed_at timestamptz,
  primary key (user_id, torrent_id)
);
create index user_torrent_stats_torrent_id on user_torrent_stats (torrent_id);
