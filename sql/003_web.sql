-- Failed log-in attempts, for throttling by account and by address.
create table login_failures (
  id bigint generated always as identity primary key,
  name text not null,
  address text not null,
  at timestamptz not null default now()
);
create index login_failures_name_at on login_failures (lower(name), at);
create index login_failures_address_at on login_failures (address, at);

-- Who invited whom is kept on the invite; an account created through one points back to it.
alter table users add column invited_by bigint references users (id) on delete set null;
