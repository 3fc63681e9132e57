-- Peer lists are now asked of the tracker when someone looks (see the README's "Peer lists"):
-- `torrent_peers` only carries the list a tracker process wrote for a web process that asked,
-- replaced whole each time. The tracker keeps no session start, so the column goes.
alter table torrent_peers drop column started_at;

-- Every announce moves a pair's last announce: an index on it made each credit write a non-HOT
-- update that touched every index of the table, doubling the database's work per announce. The
-- history pages find a member's rows by the primary key (user_id first) and sort them.
drop index if exists user_torrent_stats_user_last;
