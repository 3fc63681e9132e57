-- Large catalogues: every list order gets an index, and search looks words up instead of scanning
-- for prefixes.
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

-- Lists sort by counts, size and title as well as by date. The id breaks ties in the same
-- direction, so one index serves ascending and descending pages.
create index torrents_seeders on torrents (seeders, id);
create index torrents_leechers on torrents (leechers, id);
create index torrents_snatches on torrents (snatches, id);
create index torrents_size on torrents (size, id);
create index torrents_title on torrents (lower(title), id);
