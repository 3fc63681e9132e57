-- Database logins for a real PostgreSQL server (the embedded database needs none of this).
-- Run once as a superuser, then set passwords:
--   psql -v ON_ERROR_STOP=1 -d fairywren -f sql/roles.sql
--   alter role fairywren_web password '...'; alter role fairywren_tracker password '...';
-- The web side reads and writes; the tracker only ever reads members and torrents.
do $$
begin
  if not exists (select from pg_roles where rolname = 'fairywren_web') then
    create role fairywren_web login;
  end if;
  if not exists (select from pg_roles where rolname = 'fairywren_tracker') then
    create role fairywren_tracker login;
  end if;
end
$$;
