-- Log-in throttling by (name, address) and by address, counted atomically; and one-read notes a
-- page leaves for the next page of the same session.
--
-- A guess is counted and written before its password is checked, one address at a time (an
-- advisory lock), so of any number sent at once at most the limit get a check. A right password
-- removes the rows of its name and address. The name is stored lower-case, the address as its
-- throttling key (an IPv6 address by its /64).
drop table login_failures;
create table login_guesses (
  id bigint generated always as identity primary key,
  name text not null,
  address text not null,
  at timestamptz not null default now()
);
create index login_guesses_address_at on login_guesses (address, at);

-- A note for the session's next page (a new API token, shown once), sealed with a key derived
-- from the session's token, which only the member's browser holds: the row alone reveals nothing.
create table session_notes (
  session_id bigint primary key references sessions (id) on delete cascade,
  sealed bytea not null,
  expires_at timestamptz not null
);
