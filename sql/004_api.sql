-- Personal API tokens (only a hash of each is stored; the member sees the token once) and the
-- key of each member's RSS feed (stored as it is, like the passkey, so the account page can show it).
create table api_tokens (
  id bigint generated always as identity primary key,
  user_id bigint not null references users (id) on delete cascade,
  name text not null check (length(name) between 1 and 64),
  token_hash bytea not null unique check (length(token_hash) = 32),
  created_at timestamptz not null default now(),
  last_used_at timestamptz
);
create index api_tokens_user_id on api_tokens (user_id);

-- Every member, old and new, gets a random key; rotating it replaces it with another.
alter table users add column rss_key text not null unique
  default replace(gen_random_uuid()::text, '-', '')
  check (rss_key ~ '^[0-9a-f]{32}$');
