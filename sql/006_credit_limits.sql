-- Credit the database cannot take is kept aside instead of holding up every later batch, and
-- stored totals get a ceiling far below bigint's, so no sum of credit can overflow.
--
-- A member's totals and a member's totals on one torrent stop at 2^60 bytes (1 EiB). Only a
-- forged report could have gone past it before this check; such totals are brought down to the
-- ceiling first, so the rows stay writable (disabling the member updates the same row).
update users
set uploaded = least(uploaded, 1152921504606846976), downloaded = least(downloaded, 1152921504606846976)
where uploaded > 1152921504606846976 or downloaded > 1152921504606846976;
update user_torrent_stats
set uploaded = least(uploaded, 1152921504606846976), downloaded = least(downloaded, 1152921504606846976)
where uploaded > 1152921504606846976 or downloaded > 1152921504606846976;
alter table users
  add constraint users_uploaded_ceiling check (uploaded <= 1152921504606846976),
  add constraint users_downloaded_ceiling check (downloaded <= 1152921504606846976);
alter table user_torrent_stats
  add constraint user_torrent_stats_uploaded_ceiling check (uploaded <= 1152921504606846976),
  add constraint user_torrent_stats_downloaded_ceiling check (downloaded <= 1152921504606846976);

-- Credit rows that were not credited: refused before queueing (a value that is not a whole
-- number of bytes, or above the ceiling of one batch), refused for a total that would pass the
-- ceiling, or refused by the database. The values are numeric so that any claim fits as it was
-- made. No foreign keys: the record outlives a deleted member or torrent.
create table stat_dead_letters (
  id bigint generated always as identity primary key,
  source text not null,
  seq bigint not null,
  user_id bigint,
  torrent_id bigint,
  uploaded numeric not null,
  downloaded numeric not null,
  completed boolean not null,
  error text not null,
  created_at timestamptz not null default now()
);
create index stat_dead_letters_user_id on stat_dead_letters (user_id, created_at);
