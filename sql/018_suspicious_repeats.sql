-- Suspicious records are bounded per member: the repeats of one (member, torrent, reasons) within
-- one hour (`hour`, whole hours since 1970) are one row with a repeat count and summed figures
-- (claims and credit saturate at ±(2^53 - 1), seconds at 2^31 - 1); a member gets at most a fixed
-- number of rows a day (src/db/queries/suspicious.ts), the rest only counted in the tally
-- (`unlisted`). Rows written before this have no hour and are left as they are.
alter table suspicious_transfers
  add column repeats bigint not null default 1 check (repeats >= 1),
  add column first_at timestamptz,
  add column hour bigint;
-- A row whose torrent is deleted (torrent_id set null) never conflicts: nulls are distinct.
create unique index suspicious_transfers_repeat on suspicious_transfers (user_id, torrent_id, reasons, hour);
create index suspicious_transfers_user_hour on suspicious_transfers (user_id, hour);

alter table suspicious_tally add column unlisted bigint not null default 0;
