-- Grants for the roles in roles.sql. Run after `fairywren migrate` (and again after an upgrade
-- adds tables): psql -v ON_ERROR_STOP=1 -d fairywren -f sql/permissions.sql
grant usage on schema public to fairywren_web, fairywren_tracker;

grant select, insert, update, delete on all tables in schema public to fairywren_web;
grant usage, select on all sequences in schema public to fairywren_web;

-- The tracker loads passkeys, torrents and who completed which; it never writes.
revoke all on all tables in schema public from fairywren_tracker;
grant select (id, passkey, disabled, downloads_paused) on users to fairywren_tracker;
grant select (id, info_hash, info_hash_v2, snatches, download_factor, upload_factor) on torrents to fairywren_tracker;
grant select on freeleech_windows to fairywren_tracker;
grant select (user_id, torrent_id, completed_at) on user_torrent_stats to fairywren_tracker;
-- The peers it reloads at start (written by its process with the credit, over the read-write login).
grant select on tracker_peers to fairywren_tracker;
-- Byte conservation's waiting claims, saved and reloaded the same way, and the prober's findings.
grant select on tracker_claims to fairywren_tracker;
grant select on peer_probes to fairywren_tracker;
