// Private messages through the JSON API: list, read, start, reply; the staff inbox; who reads what;
// limits; the rules the pages follow (one service behind both).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";

let api: ApiHarness;
let admin: { token: string };
let moderator: { token: string };
let alice: { token: string };
let bob: { token: string };
let carol: { token: string };

interface Sent {
  conversation_id: number;
  message: { id: number; from: string; from_staff: boolean; system: boolean; mine: boolean; html: string };
}
interface Conversation {
  id: number;
  kind: string;
  subject: string;
  with: string;
  as_staff: boolean;
  messages: Sent["message"][];
}
interface List {
  items: { id: number; subject: string; with: string; unread: number; kind: string }[];
  page: number;
  has_next: boolean;
}

beforeAll(async () => {
  api = await apiHarness({ FAIRYWREN_MESSAGES_PER_MINUTE: "3", FAIRYWREN_CONVERSATIONS_PER_DAY: "100" });
  admin = await api.memberWithToken("admin");
  moderator = await api.memberWithToken("moderator", ["moderate"]);
  alice = await api.memberWithToken("alice");
  bob = await api.memberWithToken("bob");
  carol = await api.memberWithToken("carol");
}, 300000);
afterAll(async () => {
  await api?.close();
});

describe("conversations between members", () => {
  test("start, list, read (marks read), reply", async () => {
    const sent = await expectJson<Sent>(
      await api.call("/api/v1/messages", {
        as: alice,
        json: { to: "bob", subject: "Hi <i>there</i>", body: "A **bold** hello" },
      }),
      201,
    );
    expect(sent.message).toMatchObject({ from: "alice", mine: true, from_staff: false, system: false });
    expect(sent.message.html).toContain("<strong>bold</strong>");
    const list = await expectJson<List>(await api.call("/api/v1/messages", { as: bob }));
    expect(list.items[0]).toMatchObject({
      id: sent.conversation_id,
      subject: "Hi <i>there</i>",
      with: "alice",
      unread: 1,
    });
    const read = await expectJson<Conversation>(
      await api.call(`/api/v1/messages/${sent.conversation_id}`, { as: bob }),
    );
    expect(read).toMatchObject({ kind: "member", with: "alice", as_staff: false });
    expect(read.messages.map((m) => m.mine)).toEqual([false]);
    const after = await expectJson<List>(await api.call("/api/v1/messages", { as: bob }));
    expect(after.items[0]!.unread).toBe(0);
    const answer = await expectJson<Sent>(
      await api.call(`/api/v1/messages/${sent.conversation_id}/replies`, {
        as: bob,
        json: { body: "hello back" },
      }),
      201,
    );
    expect(answer.message.from).toBe("bob");
    const mine = await expectJson<List>(await api.call("/api/v1/messages", { as: alice }));
    expect(mine.items[0]).toMatchObject({ id: sent.conversation_id, unread: 1 });
  });

  test("others get 404 for a conversation and cannot reply to it", async () => {
    const sent = await expectJson<Sent>(
      await api.call("/api/v1/messages", {
        as: alice,
        json: { to: "bob", subject: "secret", body: "only bob" },
      }),
      201,
    );
    for (const who of [carol, moderator, admin]) {
      await expectError(
        await api.call(`/api/v1/messages/${sent.conversation_id}`, { as: who }),
        404,
        "not_found",
      );
      await expectError(
        await api.call(`/api/v1/messages/${sent.conversation_id}/replies`, { as: who, json: { body: "x" } }),
        404,
        "not_found",
      );
    }
    const [n] = await api.db.sql<{ n: number }[]>`
      select count(*)::int as n from messages where conversation_id = ${sent.conversation_id}
    `;
    expect(n!.n).toBe(1);
  });

  test("bad bodies get 422 with the field at fault", async () => {
    const unknown = await expectError(
      await api.call("/api/v1/messages", { as: alice, json: { to: "nobody", subject: "s", body: "b" } }),
      422,
      "validation",
    );
    expect(unknown.fields?.to).toBe("There is no member with this name.");
    const both = await expectError(
      await api.call("/api/v1/messages", {
        as: alice,
        json: { to: "bob", staff: true, subject: "s", body: "b" },
      }),
      422,
      "validation",
    );
    expect(both.fields?.to).toContain("not both");
    await expectError(
      await api.call("/api/v1/messages", {
        as: alice,
        json: { to: "bob", subject: "s", body: "x".repeat(10001) },
      }),
      422,
      "validation",
    );
    await expectError(
      await api.call("/api/v1/messages", { json: { to: "bob", subject: "s", body: "b" } }),
      401,
      "unauthenticated",
    );
  });
});

describe("the staff inbox", () => {
  test("staff list and answer it; members get 403 for the inbox; the member sees Staff (name)", async () => {
    const sent = await expectJson<Sent>(
      await api.call("/api/v1/messages", {
        as: carol,
        json: { staff: true, subject: "Help", body: "Question" },
      }),
      201,
    );
    const inbox = await expectJson<List>(await api.call("/api/v1/messages?box=staff", { as: moderator }));
    expect(inbox.items.find((i) => i.id === sent.conversation_id)).toMatchObject({
      with: "carol",
      unread: 1,
    });
    await expectError(await api.call("/api/v1/messages?box=staff", { as: bob }), 403, "forbidden");
    const asStaff = await expectJson<Conversation>(
      await api.call(`/api/v1/messages/${sent.conversation_id}`, { as: admin }),
    );
    expect(asStaff).toMatchObject({ kind: "staff", as_staff: true, with: "carol" });
    await expectJson(
      await api.call(`/api/v1/messages/${sent.conversation_id}/replies`, {
        as: admin,
        json: { body: "Answer" },
      }),
      201,
    );
    const seen = await expectJson<Conversation>(
      await api.call(`/api/v1/messages/${sent.conversation_id}`, { as: carol }),
    );
    expect(seen).toMatchObject({ with: "Staff", as_staff: false });
    expect(seen.messages.map((m) => m.from)).toEqual(["carol", "Staff (admin)"]);
    expect(seen.messages[1]!.from_staff).toBe(true);
    await expectError(
      await api.call(`/api/v1/messages/${sent.conversation_id}`, { as: bob }),
      404,
      "not_found",
    );
  });
});

describe("limits", () => {
  test("a member past messages a minute gets 429 with Retry-After; staff are not limited", async () => {
    const [n0] = await api.db.sql<{ n: number }[]>`
      select count(*)::int as n from messages m join users u on u.id = m.sender_id where u.name = 'bob'
    `;
    let refused: Response | null = null;
    for (let i = 0; i < 5 && !refused; i++) {
      const response = await api.call("/api/v1/messages", {
        as: bob,
        json: { to: "carol", subject: `n${i}`, body: "hi" },
      });
      if (response.status === 429) refused = response;
      else expect(response.status).toBe(201);
    }
    expect(refused).not.toBeNull();
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const error = await expectError(refused!, 429, "rate_limited");
    expect(error.message).toContain("at most 3 a minute");
    const [n1] = await api.db.sql<{ n: number }[]>`
      select count(*)::int as n from messages m join users u on u.id = m.sender_id where u.name = 'bob'
    `;
    expect(n1!.n).toBeLessThanOrEqual(3);
    expect(n1!.n).toBeGreaterThan(n0!.n);
    for (let i = 0; i < 5; i++)
      expect(
        (
          await api.call("/api/v1/messages", {
            as: admin,
            json: { to: "carol", subject: `s${i}`, body: "x" },
          })
        ).status,
      ).toBe(201);
  });
});
