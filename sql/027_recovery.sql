-- Account recovery: an optional e-mail address per member (never shown to others), one-time reset
-- links and the throttle of asking for them.
--
-- A reset link carries a random token; only its SHA-256 is stored. A link works once (used_at) and
-- until expires_at; staff who issued one are named in created_by (null: asked for by mail).
alter table users add column email text;
create index users_email_lower on users (lower(email)) where email is not null;

create table password_resets (
  id bigint generated always as identity primary key,
  user_id bigint not null references users (id) on delete cascade,
  token_hash bytea not null unique,
  created_by bigint references users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index password_resets_user on password_resets (user_id);

-- One row per "Forgot password" request, under the keys it is throttled by ("ip:<address>",
-- "to:<lower-case address>"); rows older than a day are removed as new ones come.
create table recovery_requests (
  id bigint generated always as identity primary key,
  key text not null,
  at timestamptz not null default now()
);
create index recovery_requests_key_at on recovery_requests (key, at);
