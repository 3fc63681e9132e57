-- Large catalogues: search looks words up instead of scanning for prefixes, counts live apart
-- from the catalogue, and every list order gets an index.
--
-- Search finds titles by the beginnings of their words ("debi book" finds "Debian Bookworm"). A
-- prefix query (`debi:*`) makes the index collect every entry under that prefix before it can
-- combine words, which at a million titles costs tens of milliseconds a search. So the search
-- vector holds every beginning of every word (up to 16 characters, and the whole word), and a
-- search is an exact lookup of each typed word.
create function title_search_vector(title text) returns tsvector
language sql immutable parallel safe as $$
  select coalesce(array_to_tsvector(array_agg(p)), ''::tsvector)
  from (
    select left(w, n) as p
    from unnest(tsvector_to_array(to_tsvector('simple'::regconfig, coalesce(title, '')))) as w,
      generate_series(1, least(length(w), 16)) as n
    union
    select w from unnest(tsvector_to_array(to_tsvector('simple'::regconfig, coalesce(title, '')))) as w
  ) as prefixes
$$;

drop index torrents_search;
alter table torrents drop column search;
alter table torrents add column search tsvector generated always as (title_search_vector(title)) stored;
create index torrents_search on torrents using gin (search);
-- Short beginnings are shared by many titles: enough statistics for the planner to know which
-- words are common (walk the list in order) and which are rare (look them up, then sort).
alter table torrents alter column search set statistics 1000;

-- Seeder and leecher counts change all the time, titles and files almost never. The counts move
-- to a narrow table of their own: the tracker's reports then rewrite a few dozen bytes a torrent
-- and three small indexes, not the wide catalogue row with its search index. Every torrent has a
-- row, made by a trigger however the torrent is inserted.
create table torrent_counts (
  torrent_id bigint primary key references torrents (id) on delete cascade,
  seeders integer not null default 0,
  leechers integer not null default 0
);
insert into torrent_counts (torrent_id, seeders, leechers) select id, seeders, leechers from torrents;
alter table torrents drop column seeders, drop column leechers;

create function torrent_counts_rows() returns trigger language plpgsql as $$
begin
  insert into torrent_counts (torrent_id) select id from added;
  return null;
end
$$;
create trigger torrents_counts_rows after insert on torrents
  referencing new table as added for each statement execute function torrent_counts_rows();

-- Lists sort by counts, size and title as well as by date. The id breaks ties in the same
-- direction, so one index serves ascending and descending pages.
create index torrent_counts_seeders on torrent_counts (seeders, torrent_id);
create index torrent_counts_leechers on torrent_counts (leechers, torrent_id);
create index torrents_snatches on torrents (snatches, id);
create index torrents_size on torrents (size, id);
create index torrents_title on torrents (lower(title), id);

-- Credit rows are rewritten every few seconds for active members: room on each page lets
-- PostgreSQL update them in place (a HOT update) instead of writing new index entries each time.
alter table user_torrent_stats set (fillfactor = 70);
