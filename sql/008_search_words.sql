-- Search finds release names by each of their words. PostgreSQL's text parser reads a scene-style
-- name such as "Quokka.Sunrise.Sampler.2026.FLAC" as one token (a host name), and "x264-RLS" or
-- "2.0" as tokens of their own, so only the first word of such titles could be found. ASCII
-- punctuation (dots, underscores, hyphens, brackets and the rest) now separates words before the
-- parser sees the title, as the site splits what members type; letters of every script, and the
-- marks that belong to them, still make words as before. The vector keeps every beginning of
-- every word up to 16 characters, and the whole word (see 005).
create or replace function title_search_vector(title text) returns tsvector
language sql immutable parallel safe as $$
  with words as (
    select w
    from unnest(tsvector_to_array(to_tsvector(
      'simple'::regconfig,
      regexp_replace(coalesce(title, ''), '[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]+', ' ', 'g')
    ))) as w
  )
  select coalesce(array_to_tsvector(array_agg(p)), ''::tsvector)
  from (
    select left(w, n) as p from words, generate_series(1, least(length(w), 16)) as n
    union
    select w from words
  ) as prefixes
$$;

-- A stored generated column is not recomputed when its function changes: make it again.
drop index torrents_search;
alter table torrents drop column search;
alter table torrents add column search tsvector generated always as (title_search_vector(title)) stored;
create index torrents_search on torrents using gin (search);
alter table torrents alter column search set statistics 1000;
-- The planner's choice between walking a list order and looking words up rests on these.
analyze torrents (search);
