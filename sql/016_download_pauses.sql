-- New downloads refused for a member with too many hit-and-runs (`hitAndRun.pauseDownloadsAfter`):
-- set by the web side's hourly check, read by the tracker with the rest of the member.
alter table users add column downloads_paused boolean not null default false;
