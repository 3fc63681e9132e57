-- Members' reports of a torrent, a comment or a member, for the staff to act on.
create table reports (
  id bigint generated always as identity primary key,
  reporter_id bigint not null references users (id) on delete cascade,
  target_type text not null check (target_type in ('torrent', 'comment', 'member')),
  target_id bigint not null,
  reason text not null check (length(reason) between 1 and 1000),
  status text not null default 'open' check (status in ('open', 'claimed', 'resolved', 'dismissed')),
  claimed_by bigint references users (id) on delete set null,
  decided_by bigint references users (id) on delete set null,
  -- The staff's note with the decision, shown to the reporter.
  note text not null default '' check (length(note) <= 1000),
  created_at timestamptz not null default now(),
  decided_at timestamptz
);
create index reports_waiting on reports (created_at, id) where status in ('open', 'claimed');
create index reports_reporter on reports (reporter_id, created_at desc, id desc);
-- One waiting report per member and target: reporting again adds nothing.
create unique index reports_one_waiting on reports (reporter_id, target_type, target_id)
  where status in ('open', 'claimed');

-- Warnings staff give a member: a reason and an expiry. Enough active ones
-- (`warnings.pauseDownloadsAfter`) pause the member's new downloads, as hit-and-runs do.
create table warnings (
  id bigint generated always as identity primary key,
  user_id bigint not null references users (id) on delete cascade,
  given_by bigint references users (id) on delete set null,
  reason text not null check (length(reason) between 1 and 1000),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  -- Lifted early by staff (null while it runs to its expiry).
  lifted_at timestamptz,
  check (expires_at > created_at)
);
create index warnings_user on warnings (user_id, expires_at desc);

-- Set by the web side when warnings change and by its hourly check; read by the tracker.
alter table users add column warnings_paused boolean not null default false;
