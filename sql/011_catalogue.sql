-- Categories, tags and comments.
--
-- Categories are managed by administrators: a name, an icon from the site's own set and a place
-- in the order. A torrent has at most one (none only where no category existed when it was
-- uploaded). Deleting a category that still holds torrents is refused by the foreign key: the
-- site moves them to another category first.
create table categories (
  id bigint generated always as identity primary key,
  name text not null check (length(name) between 1 and 40),
  icon text not null check (icon ~ '^[a-z][a-z0-9-]{0,31}$'),
  position integer not null default 0,
  created_at timestamptz not null default now()
);
create unique index categories_name_key on categories (lower(name));

alter table torrents add column category_id bigint references categories (id) on delete restrict;

-- A list filtered by category is sorted like the whole list, so each order gets an index led by
-- the category, the id breaking ties in the same direction (as in 005).
create index torrents_category_created_at on torrents (category_id, created_at, id);
create index torrents_category_snatches on torrents (category_id, snatches, id);
create index torrents_category_size on torrents (category_id, size, id);
create index torrents_category_title on torrents (category_id, lower(title), id);

-- Seeder and leecher orders live in torrent_counts: it keeps a copy of the category so that a
-- filtered list in those orders walks one index too. The copy is made with the row (the insert
-- trigger of 005, redefined) and follows every change of a torrent's category.
alter table torrent_counts add column category_id bigint;
create index torrent_counts_category_seeders on torrent_counts (category_id, seeders, torrent_id);
create index torrent_counts_category_leechers on torrent_counts (category_id, leechers, torrent_id);

create or replace function torrent_counts_rows() returns trigger language plpgsql as $$
begin
  insert into torrent_counts (torrent_id, category_id) select id, category_id from added;
  return null;
end
$$;

create function torrent_counts_category() returns trigger language plpgsql as $$
begin
  update torrent_counts set category_id = new.category_id where torrent_id = new.id;
  return null;
end
$$;
create trigger torrents_counts_category after update of category_id on torrents
  for each row when (old.category_id is distinct from new.category_id)
  execute function torrent_counts_category();

-- Free tags: normalised by the site (lowercase, no spaces), each with the number of torrents
-- carrying it, kept by triggers on torrent_tags however rows come and go (a deleted torrent's
-- tags go with it). Tags no torrent uses any more stay, with 0, and are not shown.
create table tags (
  id bigint generated always as identity primary key,
  name text not null unique check (length(name) between 1 and 32),
  uses integer not null default 0 check (uses >= 0)
);
create index tags_uses on tags (uses desc, name);
create index tags_name_prefix on tags (name text_pattern_ops);

create table torrent_tags (
  tag_id bigint not null references tags (id) on delete cascade,
  torrent_id bigint not null references torrents (id) on delete cascade,
  primary key (tag_id, torrent_id)
);
create index torrent_tags_torrent_id on torrent_tags (torrent_id);

create function tag_uses_added() returns trigger language plpgsql as $$
begin
  update tags t set uses = t.uses + a.n
  from (select tag_id, count(*)::int as n from added group by tag_id) a
  where t.id = a.tag_id;
  return null;
end
$$;
create function tag_uses_removed() returns trigger language plpgsql as $$
begin
  update tags t set uses = t.uses - r.n
  from (select tag_id, count(*)::int as n from removed group by tag_id) r
  where t.id = r.tag_id;
  return null;
end
$$;
create trigger torrent_tags_added after insert on torrent_tags
  referencing new table as added for each statement execute function tag_uses_added();
create trigger torrent_tags_removed after delete on torrent_tags
  referencing old table as removed for each statement execute function tag_uses_removed();

-- Comments on torrents, in the order they were written. A member's recent comments are counted
-- to throttle them.
create table comments (
  id bigint generated always as identity primary key,
  torrent_id bigint not null references torrents (id) on delete cascade,
  author_id bigint references users (id) on delete set null,
  body text not null check (length(body) between 1 and 10000),
  created_at timestamptz not null default now(),
  edited_at timestamptz
);
create index comments_torrent_id on comments (torrent_id, id);
create index comments_author_created_at on comments (author_id, created_at);

-- New comments for an uploader: one row per torrent of theirs with comments they have not seen,
-- holding the first of them; removed when they open the torrent's page.
create table comment_notices (
  user_id bigint not null references users (id) on delete cascade,
  torrent_id bigint not null references torrents (id) on delete cascade,
  first_unread_id bigint not null,
  primary key (user_id, torrent_id)
);
create index comment_notices_torrent_id on comment_notices (torrent_id);
