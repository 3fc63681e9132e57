-- Profiles, site news, and the samples the site's plots are drawn from.

-- A member's short public text (Markdown, rendered when shown; the site limits it to 1000
-- characters, the check is a safety net) and whether other members see their transfer figures.
alter table users
  add column bio text not null default '' check (length(bio) <= 4000),
  add column hide_transfer boolean not null default false;

-- News posted by administrators, shown on the home page (bodies are Markdown).
create table news (
  id bigint generated always as identity primary key,
  title text not null check (length(title) between 1 and 200),
  body text not null check (length(body) <= 20000),
  author_id bigint references users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz
);
create index news_created_at on news (created_at desc, id desc);

-- Samples for the plots, taken by the web side at fixed times (multiples of the period, UTC), so
-- two web processes sampling at once write one row. Old samples are thinned to one per hour (or
-- day) and then deleted: the tables stay bounded (see the README's Web site section).
--
-- Site totals: cumulative bytes (the sum of every member's totals), so traffic over an interval
-- is the difference of two samples.
create table site_samples (
  at timestamptz primary key,
  members integer not null,
  torrents integer not null,
  seeders integer not null,
  leechers integer not null,
  uploaded bigint not null,
  downloaded bigint not null
);

-- Seeders and leechers of a torrent, written only when they changed since its last sample: the
-- value holds until the next row.
create table torrent_samples (
  torrent_id bigint not null references torrents (id) on delete cascade,
  at timestamptz not null,
  seeders integer not null,
  leechers integer not null,
  primary key (torrent_id, at)
);
create index torrent_samples_at on torrent_samples (at);

-- A member's cumulative totals, written only when they changed since the member's last sample.
create table member_samples (
  user_id bigint not null references users (id) on delete cascade,
  at timestamptz not null,
  uploaded bigint not null,
  downloaded bigint not null,
  primary key (user_id, at)
);
create index member_samples_at on member_samples (at);
