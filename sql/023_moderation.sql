-- Uploads held for review (`site.moderateUploads`): a torrent is pending, approved or rejected.
-- Torrents already stored are approved. The tracker refuses a pending or rejected one with the
-- reason, and lists, search and feeds hide it from everyone but its uploader and the staff.
alter table torrents
  add column moderation text not null default 'approved'
    check (moderation in ('pending', 'approved', 'rejected')),
  -- The reason of a rejection, or the note of a postponement, for the uploader to read.
  add column moderation_note text not null default '' check (length(moderation_note) <= 1000),
  add column moderated_by bigint references users (id) on delete set null,
  add column moderated_at timestamptz,
  -- Where the torrent stands in the queue: its upload time, or the time it was postponed to.
  add column queued_at timestamptz;
-- The few torrents not approved: lists exclude them through this index, the queue walks it.
create index torrents_held on torrents (queued_at, id) where moderation <> 'approved';

-- Members whose uploads skip the queue (staff skip it too).
insert into roles (name, description) values ('trusted', 'Uploads skip the moderation queue');
