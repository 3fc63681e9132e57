-- Announces whose credit the tracker capped or refused (too fast, nobody to upload to, a counter
-- going backwards), for moderators; with a running tally per member. Batches carry a sequence
-- number per tracker run, recorded in the same transaction, so a retried batch counts once.
create table suspicious_transfers (
  id bigint generated always as identity primary key,
  user_id bigint not null references users (id) on delete cascade,
  -- Kept when the torrent is deleted: the record is about the member.
  torrent_id bigint references torrents (id) on delete set null,
  peer_id bytea not null check (length(peer_id) = 20),
  user_agent text check (length(user_agent) <= 200),
  -- What the report implied since the peer's previous one (negative for a counter going back).
  claimed_up bigint not null,
  claimed_down bigint not null,
  credited_up bigint not null check (credited_up >= 0),
  credited_down bigint not null check (credited_down >= 0),
  -- Seconds since the peer's previous report.
  seconds integer not null check (seconds >= 0),
  reasons text[] not null,
  at timestamptz not null
);
create index suspicious_transfers_at on suspicious_transfers (at desc, id desc);
create index suspicious_transfers_user_id on suspicious_transfers (user_id, at desc);

-- Sums never overflow: a member may claim 2^53 bytes in every record.
create table suspicious_tally (
  user_id bigint primary key references users (id) on delete cascade,
  records bigint not null,
  uncredited_up numeric not null,
  uncredited_down numeric not null,
  last_at timestamptz not null
);
create index suspicious_tally_records on suspicious_tally (records desc, user_id);

create table suspicious_batches (
  source text primary key,
  last_seq bigint not null,
  applied_at timestamptz not null default now()
);
