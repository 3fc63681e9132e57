-- Requests with bounties: a member asks for something, members put bonus points on it, another
-- member fills it with a torrent on the site, and the requester (or staff) accepts or rejects the
-- fill. Points move only as rows of bonus_ledger: a contribution is a spending held in escrow, an
-- accepted fill pays the whole bounty to the filler once, and a request that expires unfilled
-- refunds each contribution once.
create table requests (
  id bigint generated always as identity primary key,
  requester_id bigint references users (id) on delete set null,
  title text not null check (length(title) between 1 and 200),
  category_id bigint references categories (id) on delete set null,
  tags text[] not null default '{}',
  description text not null default '',
  -- open: waiting for a fill; pending: filled, waiting for the requester's answer; filled: the
  -- fill was accepted and the bounty paid; expired: never filled, the bounty refunded.
  status text not null default 'open' check (status in ('open', 'pending', 'filled', 'expired')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  torrent_id bigint references torrents (id) on delete set null,
  filler_id bigint references users (id) on delete set null,
  filled_at timestamptz,
  settled_at timestamptz,
  -- The sum of the request's contributions, kept in the same transaction as each of them.
  bounty_millipoints bigint not null default 0 check (bounty_millipoints >= 0)
);
create index requests_status_created on requests (status, created_at desc, id desc);
create index requests_due on requests (expires_at) where status in ('open', 'pending');
create index requests_torrent on requests (torrent_id) where torrent_id is not null;

-- Each contribution to a bounty, the requester's first one included.
create table request_bounties (
  id bigint generated always as identity primary key,
  request_id bigint not null references requests (id),
  user_id bigint not null references users (id) on delete cascade,
  millipoints bigint not null check (millipoints > 0),
  created_at timestamptz not null default now()
);
create index request_bounties_request on request_bounties (request_id, id);

-- The ledger learns three more reasons: a contribution (negative), its refund and the award
-- (positive). A refund names its contribution and an award its request, each at most once.
alter table bonus_ledger drop constraint bonus_ledger_reason_check;
alter table bonus_ledger drop constraint bonus_ledger_check1;
alter table bonus_ledger add constraint bonus_ledger_reason_check
  check (reason in ('seeding', 'upload_credit', 'invite', 'request_bounty', 'request_refund', 'request_award'));
alter table bonus_ledger add constraint bonus_ledger_sign_check
  check ((millipoints > 0) = (reason in ('seeding', 'request_refund', 'request_award')));
alter table bonus_ledger
  add column request_id bigint references requests (id),
  add column bounty_id bigint references request_bounties (id);
alter table bonus_ledger add constraint bonus_ledger_request_check
  check ((reason like 'request\_%') = (request_id is not null));
create unique index bonus_ledger_refund_once on bonus_ledger (bounty_id) where reason = 'request_refund';
create unique index bonus_ledger_award_once on bonus_ledger (request_id) where reason = 'request_award';
create unique index bonus_ledger_bounty_once on bonus_ledger (bounty_id) where reason = 'request_bounty';
