-- The tracker's live counts, whole, in the one table its process writes them to: a web process of
-- a larger site reads seeders, leechers and snatches here when told which torrents changed, so a
-- forged notification carries no numbers anyone would show. (torrents.snatches stays the total
-- the credit batches keep, for sorting.)
alter table torrent_counts add column snatches integer not null default 0;
