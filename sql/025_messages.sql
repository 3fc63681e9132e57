-- Private messages: conversations between two members, and between a member and the staff (any
-- moderator or administrator reads and answers the staff side). System messages (warnings,
-- moderation decisions) are staff conversations the site starts, so the member can answer them.

-- One conversation. `kind` 'member': between the two members in conversation_members; 'staff':
-- between the one member in conversation_members and the staff inbox, whose unread count is
-- `staff_unread` (messages from the member the staff have not read yet).
create table conversations (
  id bigint generated always as identity primary key,
  kind text not null check (kind in ('member', 'staff')),
  subject text not null check (length(subject) between 1 and 200),
  starter_id bigint references users (id) on delete set null,
  created_at timestamptz not null default now(),
  last_message_at timestamptz not null default now(),
  staff_unread integer not null default 0 check (staff_unread >= 0)
);
-- Conversations started by a member in the last day (the daily limit).
create index conversations_starter_created_at on conversations (starter_id, created_at);
-- The staff inbox, newest first, and its unread count (read on every page a staff member opens).
create index conversations_staff_last on conversations (last_message_at desc, id desc) where kind = 'staff';
create index conversations_staff_unread on conversations (id) where kind = 'staff' and staff_unread > 0;

-- The members of a conversation and how many of its messages each has not read.
create table conversation_members (
  conversation_id bigint not null references conversations (id) on delete cascade,
  user_id bigint not null references users (id) on delete cascade,
  unread integer not null default 0 check (unread >= 0),
  primary key (conversation_id, user_id)
);
create index conversation_members_user on conversation_members (user_id, conversation_id);
-- The header's count: only rows with something unread.
create index conversation_members_unread on conversation_members (user_id) where unread > 0;

-- One message. `from_site`: the site wrote it (a system message; `sender_id` is null). `as_staff`: a staff member
-- answered for the staff inbox (the member sees "Staff" and the name). `html` is the body rendered
-- once, when written.
create table messages (
  id bigint generated always as identity primary key,
  conversation_id bigint not null references conversations (id) on delete cascade,
  sender_id bigint references users (id) on delete set null,
  as_staff boolean not null default false,
  from_site boolean not null default false,
  body text not null check (length(body) between 1 and 20000),
  html text not null,
  created_at timestamptz not null default now()
);
create index messages_conversation on messages (conversation_id, id);
-- A member's messages in the last minute (the rate limit).
create index messages_sender_created_at on messages (sender_id, created_at);
