-- Second factors: an authenticator app (TOTP, RFC 6238), one-time recovery codes and passkeys
-- (WebAuthn), and the half-finished log-ins and ceremonies that wait for one.
--
-- A TOTP secret takes effect once confirmed with a code (confirmed_at); last_step is the last time
-- step accepted, so a code cannot be used twice.
create table totp_secrets (
  user_id bigint primary key references users (id) on delete cascade,
  secret text not null,
  created_at timestamptz not null default now(),
  confirmed_at timestamptz,
  last_step bigint not null default 0
);

-- Ten per member, shown once; only their SHA-256 is stored. A used one keeps its row (used_at).
create table recovery_codes (
  id bigint generated always as identity primary key,
  user_id bigint not null references users (id) on delete cascade,
  code_hash bytea not null,
  used_at timestamptz
);
create index recovery_codes_user on recovery_codes (user_id);

create table passkeys (
  id bigint generated always as identity primary key,
  user_id bigint not null references users (id) on delete cascade,
  credential_id text not null unique,
  public_key bytea not null,
  counter bigint not null default 0,
  transports text[] not null default '{}',
  name text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz
);
create index passkeys_user on passkeys (user_id);

-- A log-in whose password was right, waiting for its second factor (token_hash: the hash of the
-- random token in the browser's cookie or the API's answer), and the WebAuthn challenge it or an
-- enrolment is answering. Rows live a few minutes.
create table second_factor_waits (
  id bigint generated always as identity primary key,
  token_hash bytea not null unique,
  user_id bigint not null references users (id) on delete cascade,
  purpose text not null check (purpose in ('login', 'enrol')),
  challenge text,
  expires_at timestamptz not null
);
create index second_factor_waits_user on second_factor_waits (user_id);
