import type { Sql, Tx } from "../client.ts";

/** The high half of the advisory lock each member's messages are sent under. */
const MESSAGE_LOCK = 0x6d7367;

/** Who a conversation is with: another member, or the staff inbox. */
export type ConversationKind = "member" | "staff";

/** A conversation as a list shows it, for one reader. */
export interface ConversationRow {
  id: number;
  kind: ConversationKind;
  subject: string;
  lastMessageAt: Date;
  /** Messages the reader has not read (for the staff inbox: the staff's count). */
  unread: number;
  /** The other member (member conversations), or the member (the staff inbox); null once deleted. */
  otherId: number | null;
  other: string | null;
}

/** A conversation with its members, for the rules of who reads and answers it. */
export interface ConversationHead {
  id: number;
  kind: ConversationKind;
  subject: string;
  createdAt: Date;
  /** Its members (two for 'member', one for 'staff'), by id and name. */
  members: { id: number; name: string }[];
}

/** One message as a conversation shows it. */
export interface MessageRow {
  id: number;
  senderId: number | null;
  sender: string | null;
  asStaff: boolean;
  /** The site wrote it (a system message). */
  fromSite: boolean;
  body: string;
  html: string;
  createdAt: Date;
}

/** The member's conversations, the latest first: `limit` after `offset` (one more: is there a next page?). */
export async function memberConversations(
  sql: Sql,
  userId: number,
  options: { limit: number; offset: number },
): Promise<ConversationRow[]> {
  return await sql<ConversationRow[]>`
    select c.id, c.kind, c.subject, c.last_message_at, m.unread,
      o.user_id as other_id, u.name as other
    from conversation_members m
    join conversations c on c.id = m.conversation_id
    left join conversation_members o on o.conversation_id = c.id and o.user_id <> m.user_id
    left join users u on u.id = o.user_id
    where m.user_id = ${userId}
    order by c.last_message_at desc, c.id desc
    limit ${options.limit + 1}
    offset ${options.offset}
  `;
}

/** The staff inbox, the latest first: `limit` after `offset` (one more: is there a next page?). */
export async function staffConversations(
  sql: Sql,
  options: { limit: number; offset: number },
): Promise<ConversationRow[]> {
  return await sql<ConversationRow[]>`
    select c.id, c.kind, c.subject, c.last_message_at, c.staff_unread as unread,
      m.user_id as other_id, u.name as other
    from conversations c
    left join conversation_members m on m.conversation_id = c.id
    left join users u on u.id = m.user_id
    where c.kind = 'staff'
    order by c.last_message_at desc, c.id desc
    limit ${options.limit + 1}
    offset ${options.offset}
  `;
}

/** One conversation with its members, or null. */
export async function conversationHead(sql: Sql, id: number): Promise<ConversationHead | null> {
  const [row] = await sql<ConversationHead[]>`
    select c.id, c.kind, c.subject, c.created_at,
      coalesce(
        (select json_agg(json_build_object('id', u.id, 'name', u.name) order by u.id)
          from conversation_members m join users u on u.id = m.user_id
          where m.conversation_id = c.id),
        '[]'::json
      ) as members
    from conversations c
    where c.id = ${id}
  `;
  return row ?? null;
}

/** A conversation's latest `limit` messages, oldest first. */
export async function conversationMessages(sql: Sql, id: number, limit: number): Promise<MessageRow[]> {
  return await sql<MessageRow[]>`
    select * from (
      select m.id, m.sender_id, u.name as sender, m.as_staff, m.from_site, m.body, m.html, m.created_at
      from messages m
      left join users u on u.id = m.sender_id
      where m.conversation_id = ${id}
      order by m.id desc
      limit ${limit}
    ) latest
    order by id
  `;
}

/** One message, or null. */
export async function messageRow(sql: Sql, id: number): Promise<MessageRow | null> {
  const [row] = await sql<MessageRow[]>`
    select m.id, m.sender_id, u.name as sender, m.as_staff, m.from_site, m.body, m.html, m.created_at
    from messages m
    left join users u on u.id = m.sender_id
    where m.id = ${id}
  `;
  return row ?? null;
}

/**
 * Marks a conversation read by a member (and, when `staff`, by the staff inbox); returns how many
 * messages that cleared for the member, and whether the staff inbox had it waiting.
 */
export async function markRead(
  sql: Sql,
  id: number,
  userId: number,
  staff: boolean,
): Promise<{ mine: number; staff: boolean }> {
  const [mine] = await sql<{ unread: number }[]>`
    update conversation_members m
    set unread = 0
    from (
      select conversation_id, user_id, unread from conversation_members
      where conversation_id = ${id} and user_id = ${userId}
    ) old
    where m.conversation_id = old.conversation_id and m.user_id = old.user_id and m.unread > 0
    returning old.unread
  `;
  let waited = false;
  if (staff) {
    const rows = await sql`
      update conversations set staff_unread = 0 where id = ${id} and staff_unread > 0 returning id
    `;
    waited = rows.length > 0;
  }
  return { mine: mine?.unread ?? 0, staff: waited };
}

/** How a member's sending is limited; null limits do not apply (staff, system messages). */
export interface SendLimits {
  perMinute: number | null;
  conversationsPerDay: number | null;
}

/** The outcome of sending: the new message (and its conversation), or a throttle with seconds to wait. */
export type SendOutcome =
  | { conversationId: number; messageId: number }
  | { throttled: number; what: "minute" | "day" };

/** Counts the sender's recent messages (and conversations) under their lock; a throttle, or null. */
async function throttle(
  tx: Tx,
  senderId: number,
  limits: SendLimits,
  starting: boolean,
): Promise<SendOutcome | null> {
  await tx`select pg_advisory_xact_lock(${MESSAGE_LOCK}::bigint * 4294967296 + ${senderId}::bigint)`;
  if (limits.perMinute !== null) {
    const [recent] = await tx<{ n: number; wait: number | null }[]>`
      select count(*)::int as n,
        ceil(extract(epoch from min(created_at) + interval '1 minute' - now()))::int as wait
      from messages
      where sender_id = ${senderId} and created_at > now() - interval '1 minute'
    `;
    if (recent!.n >= limits.perMinute) return { throttled: Math.max(1, recent!.wait ?? 1), what: "minute" };
  }
  if (starting && limits.conversationsPerDay !== null) {
    const [today] = await tx<{ n: number; wait: number | null }[]>`
      select count(*)::int as n,
        ceil(extract(epoch from min(created_at) + interval '1 day' - now()))::int as wait
      from conversations
      where starter_id = ${senderId} and created_at > now() - interval '1 day'
    `;
    if (today!.n >= limits.conversationsPerDay)
      return { throttled: Math.max(1, today!.wait ?? 1), what: "day" };
  }
  return null;
}

/**
 * Starts a conversation with its first message, in one transaction: with another member
 * (`toUserId`, who has it unread) or with the staff inbox (`toUserId` null: the staff have it
 * unread). A system message (`senderId` null) is a staff conversation the site starts with
 * `memberId`, unread by them. Throttled per sender under a lock, like comments.
 */
export async function startConversation(
  sql: Sql,
  input: {
    kind: ConversationKind;
    subject: string;
    body: string;
    html: string;
    /** The member who writes it; null for the site. */
    senderId: number | null;
    /** The other member ('member'), or the member a system message goes to. */
    toUserId: number | null;
    limits: SendLimits;
  },
): Promise<SendOutcome> {
  return (await sql.begin(async (tx) => {
    if (input.senderId !== null) {
      const throttled = await throttle(tx, input.senderId, input.limits, true);
      if (throttled) return throttled;
    }
    const system = input.senderId === null;
    const [conversation] = await tx<{ id: number }[]>`
      insert into conversations (kind, subject, starter_id, staff_unread)
      values (${input.kind}, ${input.subject}, ${input.senderId}, ${input.kind === "staff" && !system ? 1 : 0})
      returning id
    `;
    const id = conversation!.id;
    const members: { conversation_id: number; user_id: number; unread: number }[] = [];
    if (input.senderId !== null) members.push({ conversation_id: id, user_id: input.senderId, unread: 0 });
    if (input.toUserId !== null) members.push({ conversation_id: id, user_id: input.toUserId, unread: 1 });
    await tx`insert into conversation_members ${tx(members)}`;
    const [message] = await tx<{ id: number }[]>`
      insert into messages (conversation_id, sender_id, as_staff, from_site, body, html)
      values (${id}, ${input.senderId}, false, ${input.senderId === null}, ${input.body}, ${input.html})
      returning id
    `;
    return { conversationId: id, messageId: message!.id };
  })) as SendOutcome;
}

/**
 * Adds a reply to a conversation, in one transaction: every other member of it has one more
 * unread, and when the reply is the member's own in a staff conversation, so has the staff inbox.
 */
export async function addReply(
  sql: Sql,
  input: {
    conversationId: number;
    senderId: number;
    /** A staff member answering for the staff inbox. */
    asStaff: boolean;
    body: string;
    html: string;
    limits: SendLimits;
  },
): Promise<SendOutcome> {
  return (await sql.begin(async (tx) => {
    const throttled = await throttle(tx, input.senderId, input.limits, false);
    if (throttled) return throttled;
    const [message] = await tx<{ id: number }[]>`
      insert into messages (conversation_id, sender_id, as_staff, body, html)
      values (${input.conversationId}, ${input.senderId}, ${input.asStaff}, ${input.body}, ${input.html})
      returning id
    `;
    await tx`
      update conversation_members set unread = unread + 1
      where conversation_id = ${input.conversationId} and user_id <> ${input.senderId}
    `;
    await tx`
      update conversations
      set last_message_at = now(),
        staff_unread = case when kind = 'staff' and not ${input.asStaff} then staff_unread + 1 else staff_unread end
      where id = ${input.conversationId}
    `;
    return { conversationId: input.conversationId, messageId: message!.id };
  })) as SendOutcome;
}

/** A member's id by name (any case), if enabled. */
export async function enabledMemberByName(
  sql: Sql,
  name: string,
): Promise<{ id: number; name: string } | null> {
  const [row] = await sql<{ id: number; name: string }[]>`
    select id, name from users where lower(name) = lower(${name}) and not disabled
  `;
  return row ?? null;
}
