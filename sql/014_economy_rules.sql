-- Hit-and-run and seeding bonus points.
--
-- The per-member-and-torrent history the rules read. Added only where missing, so that this
-- change applies whether or not the history's own migration ran first.
alter table user_torrent_stats add column if not exists reported_uploaded bigint not null default 0;
alter table user_torrent_stats add column if not exists reported_downloaded bigint not null default 0;
alter table user_torrent_stats add column if not exists seed_seconds bigint not null default 0;
alter table user_torrent_stats add column if not exists first_announce_at timestamptz;
alter table user_torrent_stats add column if not exists last_announce_at timestamptz;
alter table user_torrent_stats add column if not exists seeding boolean not null default false;
alter table user_torrent_stats add column if not exists leeching boolean not null default false;

-- Snatches in completion order, for the hit-and-run rule.
create index if not exists user_torrent_stats_completed on user_torrent_stats (user_id, completed_at)
  where completed_at is not null;

-- Bonus points, earned and spent: the balance is the sum. An earning names the hour it is for
-- (one row per member and hour, whatever reruns); a spending names what was bought.
create table bonus_ledger (
  id bigint generated always as identity primary key,
  user_id bigint not null references users (id) on delete cascade,
  -- The start of the hour earned for; null for a spending.
  hour timestamptz,
  -- Positive for an earning, negative for a spending; thousandths of a point.
  millipoints bigint not null check (millipoints <> 0),
  reason text not null check (reason in ('seeding', 'upload_credit', 'invite')),
  -- What a spending bought: bytes of upload credit, or the invite created.
  bytes bigint,
  invite_id bigint references invites (id) on delete set null,
  seeding_torrents integer,
  created_at timestamptz not null default now(),
  check ((reason = 'seeding') = (hour is not null)),
  check ((reason = 'seeding') = (millipoints > 0))
);
create unique index bonus_ledger_earning on bonus_ledger (user_id, hour) where hour is not null;
create index bonus_ledger_user on bonus_ledger (user_id, created_at desc, id desc);

-- The hours the earning job finished, each written in the same transaction as its earnings.
create table bonus_hours (
  hour timestamptz primary key,
  members integer not null,
  millipoints bigint not null,
  done_at timestamptz not null default now()
);
