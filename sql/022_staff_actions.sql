-- The audit log: every action a moderator or administrator takes, once, with who did it, what it
-- touched, the state before and after, and when (the database's clock). Append-only: the trigger
-- below refuses every update, delete and truncate, so it holds for any login (and in the embedded
-- database); permissions.sql also grants the web's role only insert and select on it.
-- No foreign key on the actor: a key with `on delete` would itself have to update rows here.
create table staff_actions (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor_id bigint not null,
  action text not null check (action ~ '^[a-z][a-z_.]{1,63}$'),
  target_type text not null check (target_type ~ '^[a-z][a-z_]{1,31}$'),
  target_id bigint,
  before jsonb,
  after jsonb
);
create index staff_actions_at on staff_actions (at desc, id desc);
create index staff_actions_actor on staff_actions (actor_id, at desc, id desc);
create index staff_actions_target on staff_actions (target_type, target_id, at desc, id desc);
create index staff_actions_action on staff_actions (action, at desc, id desc);

create function staff_actions_append_only() returns trigger
language plpgsql as $$
begin
  raise exception 'the staff action log is append-only: % is refused', tg_op
    using errcode = 'insufficient_privilege';
end;
$$;
create trigger staff_actions_no_update
  before update or delete on staff_actions
  for each row execute function staff_actions_append_only();
create trigger staff_actions_no_truncate
  before truncate on staff_actions
  for each statement execute function staff_actions_append_only();
