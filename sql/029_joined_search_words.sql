-- A release name writes some words with a dot or hyphen inside them: "H.265", "DD5.1", "AAC2.0",
-- "x-264". Split at punctuation (008) they are found as "h 265" but not as "h265", the way members
-- type them. The vector now also holds each pair of neighbouring words joined where one dot, hyphen
-- or underscore stands between them ("h265", "dd51", "aac20"), with their beginnings as for every
-- word; what a member types is still split at punctuation, so "H.265" and "h265" both find it.
create or replace function title_search_vector(title text) returns tsvector
language sql immutable parallel safe as $$
  with words as (
    select w
    from unnest(tsvector_to_array(to_tsvector(
      'simple'::regconfig,
      regexp_replace(coalesce(title, ''), '[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]+', ' ', 'g')
    ))) as w
  ),
  pieces as (
    select lower(m[1]) as piece, n
    from regexp_matches(coalesce(title, ''), '([A-Za-z0-9]+|[^A-Za-z0-9]+)', 'g') with ordinality as p(m, n)
  ),
  joined as (
    select a.piece || c.piece as w
    from pieces a
    join pieces b on b.n = a.n + 1
    join pieces c on c.n = a.n + 2
    where a.piece ~ '^[a-z0-9]+$'
      and b.piece in ('.', '-', '_')
      and c.piece ~ '^[a-z0-9]+$'
  ),
  every_word as (
    select w from words
    union
    select w from joined
  )
  select coalesce(array_to_tsvector(array_agg(p)), ''::tsvector)
  from (
    select left(w, n) as p from every_word, generate_series(1, least(length(w), 16)) as n
    union
    select w from every_word
  ) as prefixes
$$;

-- A stored generated column is not recomputed when its function changes: make it again, which
-- indexes every existing title anew.
drop index torrents_search;
alter table torrents drop column search;
alter table torrents add column search tsvector generated always as (title_search_vector(title)) stored;
create index torrents_search on torrents using gin (search);
alter table torrents alter column search set statistics 1000;
analyze torrents (search);
