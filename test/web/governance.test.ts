// Staff who govern, over real HTTP: the staff log records every staff action once and the
// database refuses to change it; warnings pause a member's downloads at a real tracker and an
// expiry lifts the pause; reports go from a member to the staff and back; invites stop working
// when their maker may no longer invite, and a first-account link makes the first member only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import bencode from "bencode";
import { createInvite } from "../../src/db/queries/invites.ts";
import { trackerTorrents } from "../../src/db/queries/torrents.ts";
import { trackerUsers } from "../../src/db/queries/users.ts";
import { createTrackerApp } from "../../src/tracker/app.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { checkWarningPauses } from "../../src/web/warnings/service.ts";
import { announceQuery } from "../helpers/announce.ts";
import {
  type ApiHarness,
  apiHarness,
  expectError,
  expectJson,
  smallTorrent,
  uploadForm,
} from "../helpers/api.ts";

let h: ApiHarness;
type Who = { id: number; token: string; cookie: string; csrf: string; passkey: string };
let admin: Who;
let mod: Who;
let alice: Who;
let bob: Who;
let torrentId = 0;

async function who(name: string, roles: Parameters<ApiHarness["member"]>[1]): Promise<Who> {
  const m = await h.memberWithToken(name, roles);
  const { cookie, csrf } = await h.login(name);
  const [row] = await h.db.sql<{ passkey: string }[]>`select passkey from users where id = ${m.id}`;
  return { ...m, cookie, csrf, passkey: row!.passkey };
}

async function log(targetType: string, targetId: number) {
  return [
    ...(await h.db.sql<{ actorId: number; action: string; before: unknown; after: unknown }[]>`
      select actor_id, action, before, after from staff_actions
      where target_type = ${targetType} and target_id = ${targetId}
      order by id
    `),
  ];
}

beforeAll(async () => {
  h = await apiHarness({ FAIRYWREN_REPORTS_PER_HOUR: "3" });
  admin = await who("root_admin", []);
  mod = await who("moder", ["moderate", "invite"]);
  alice = await who("alice", ["upload", "invite"]);
  bob = await who("bob", ["upload"]);
  const up = await h.call("/api/v1/torrents", {
    as: { token: alice.token },
    form: uploadForm(smallTorrent("Alice's")),
  });
  torrentId = (await expectJson<{ id: number }>(up, 201)).id;
}, 180_000);

afterAll(async () => {
  await h?.close();
});

describe("the staff log", () => {
  test("records disabling, roles, torrent edits, factors and windows once each, with before and after", async () => {
    const carol = await h.member("carol", ["upload"]);
    expect(
      (await h.request(`/admin/users/${carol.id}/disable`, { cookie: mod.cookie, form: { _csrf: mod.csrf } }))
        .status,
    ).toBe(303);
    await expectJson(
      await h.call(`/api/v1/users/${carol.id}/roles/trusted`, { method: "PUT", as: { token: admin.token } }),
    );
    // Granting a role held already changes nothing and records nothing.
    await expectJson(
      await h.call(`/api/v1/users/${carol.id}/roles/trusted`, { method: "PUT", as: { token: admin.token } }),
    );
    expect(await log("member", carol.id)).toEqual([
      { actorId: mod.id, action: "member.disable", before: { disabled: false }, after: { disabled: true } },
      {
        actorId: admin.id,
        action: "member.grant_role",
        before: { roles: ["upload"] },
        after: { roles: ["trusted", "upload"] },
      },
    ]);

    // The uploader editing their own torrent is not a staff action; a moderator editing it is.
    await expectJson(
      await h.call(`/api/v1/torrents/${torrentId}`, {
        method: "PATCH",
        as: { token: alice.token },
        json: { title: "Mine" },
      }),
    );
    await expectJson(
      await h.call(`/api/v1/torrents/${torrentId}`, {
        method: "PATCH",
        as: { token: mod.token },
        json: { title: "Fixed" },
      }),
    );
    await expectJson(
      await h.call(`/api/v1/torrents/${torrentId}/freeleech`, {
        method: "PUT",
        as: { token: mod.token },
        json: { download_factor: 0, upload_factor: 1 },
      }),
    );
    const torrentLog = await log("torrent", torrentId);
    expect(torrentLog.map((l) => [l.actorId, l.action])).toEqual([
      [mod.id, "torrent.edit"],
      [mod.id, "torrent.factors"],
    ]);
    expect(torrentLog[0]!.before).toMatchObject({ title: "Mine" });
    expect(torrentLog[0]!.after).toMatchObject({ title: "Fixed" });
    expect(torrentLog[1]!.after).toEqual({ downloadFactor: 0, uploadFactor: 1 });

    const window = await expectJson<{ id: number }>(
      await h.call("/api/v1/freeleech/windows", {
        as: { token: admin.token },
        json: {
          starts_at: "2031-01-01T00:00:00Z",
          ends_at: "2031-01-03T00:00:00Z",
          download_factor: 0,
          upload_factor: 1,
          note: "New year",
        },
      }),
      201,
    );
    expect(
      (
        await h.call(`/api/v1/freeleech/windows/${window.id}`, {
          method: "DELETE",
          as: { token: admin.token },
        })
      ).status,
    ).toBe(204);
    expect((await log("window", window.id)).map((l) => l.action)).toEqual(["window.create", "window.delete"]);
  });

  test("the database refuses to change or delete a line, and the web's grants allow only insert and select", async () => {
    const [before] = await h.db.sql<{ n: number }[]>`select count(*)::int as n from staff_actions`;
    expect(before!.n).toBeGreaterThan(0);
    await expect(h.db.sql`update staff_actions set action = 'member.enable'`).rejects.toThrow(/append-only/);
    await expect(h.db.sql`delete from staff_actions`).rejects.toThrow(/append-only/);
    await expect(h.db.sql`truncate staff_actions`).rejects.toThrow(/append-only/);
    const [after] = await h.db.sql<{ n: number }[]>`select count(*)::int as n from staff_actions`;
    expect(after!.n).toBe(before!.n);
    const grants = await Bun.file(new URL("../../sql/permissions.sql", import.meta.url)).text();
    expect(grants).toContain("revoke update, delete, truncate on staff_actions from fairywren_web;");
  });

  test("administrators browse and filter it on a page and in the API; others may not", async () => {
    const page = await (await h.request("/admin/log?action=member.disable", { cookie: admin.cookie })).text();
    const table = page.slice(page.indexOf('id="staff-log"'));
    expect(table).toContain("member.disable");
    expect(table).not.toContain("torrent.factors");
    const api = await expectJson<{ items: { action: string; actor: { name: string } }[] }>(
      await h.call("/api/v1/staff-log?actor=moder&target_type=torrent", { as: { token: admin.token } }),
    );
    expect(api.items.map((i) => i.action)).toEqual(["torrent.factors", "torrent.edit"]);
    expect(api.items.every((i) => i.actor.name === "moder")).toBe(true);
    const none = await expectJson<{ items: unknown[] }>(
      await h.call("/api/v1/staff-log?until=2000-01-01", { as: { token: admin.token } }),
    );
    expect(none.items).toEqual([]);
    await expectError(
      await h.call("/api/v1/staff-log?since=yesterday", { as: { token: admin.token } }),
      422,
      "validation",
    );
    expect((await h.request("/admin/log", { cookie: mod.cookie })).status).toBe(403);
    await expectError(await h.call("/api/v1/staff-log", { as: { token: mod.token } }), 403, "forbidden");
  });
});

describe("warnings", () => {
  let tracker: Tracker;
  let app: ReturnType<typeof createTrackerApp>;
  const now = Math.floor(Date.now() / 1000);

  async function leech(as: Who): Promise<string | null> {
    for (const m of h.sent.splice(0)) if (m.kind === "user-upsert") tracker.upsertUser(m.user);
    const [row] = await h.db.sql<
      { infoHash: Uint8Array }[]
    >`select info_hash from torrents where id = ${torrentId}`;
    const query = announceQuery({
      infoHash: row!.infoHash,
      peerId: new TextEncoder().encode(`-qB4520-${as.id}`.padEnd(20, "w")),
      left: 500,
    });
    const response = await fetch(`http://127.0.0.1:${app.server!.port}/${as.passkey}/announce?${query}`);
    const body = bencode.decode(Buffer.from(await response.arrayBuffer())) as Record<string, unknown>;
    return body["failure reason"] ? Buffer.from(body["failure reason"] as Uint8Array).toString() : null;
  }

  beforeAll(async () => {
    tracker = new Tracker({ ...h.deps.config.tracker, minAnnounceIntervalSeconds: 0 }, () => 0);
    tracker.load(await trackerUsers(h.db.sql), await trackerTorrents(h.db.sql));
    app = createTrackerApp(tracker, { pathDepth: 0, trustedProxies: [], now: () => now });
    app.listen({ hostname: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await app?.stop(true);
  });

  test("two active warnings pause new downloads at the tracker; lifting or expiry ends the pause", async () => {
    expect(await leech(bob)).toBeNull();
    // A reason is required; a plain member cannot warn.
    const empty = await h.request(`/admin/users/${bob.id}/warnings`, {
      cookie: mod.cookie,
      form: { reason: " ", days: "7", _csrf: mod.csrf },
    });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain("Say why");
    await expectError(
      await h.call(`/api/v1/users/${bob.id}/warnings`, { as: { token: alice.token }, json: { reason: "x" } }),
      403,
      "forbidden",
    );
    const first = await h.request(`/admin/users/${bob.id}/warnings`, {
      cookie: mod.cookie,
      form: { reason: "Hit and run <again>", days: "7", _csrf: mod.csrf },
    });
    expect(first.status).toBe(303);
    expect(await leech(bob)).toBeNull();
    const second = await expectJson<{ id: number }>(
      await h.call(`/api/v1/users/${bob.id}/warnings`, {
        as: { token: mod.token },
        json: { reason: "Abusive comment", days: 1 },
      }),
      201,
    );
    expect(await leech(bob)).toStartWith("New downloads are paused: you have too many active warnings");
    // The member sees the banner on every page and the reasons on their warnings page.
    const home = await (await h.request("/torrents", { cookie: bob.cookie })).text();
    expect(home).toContain("You have 2 active warnings");
    const own = await (await h.request("/account/warnings", { cookie: bob.cookie })).text();
    expect(own).toContain("Hit and run &lt;again&gt;");
    // Each warning also arrives as a system message.
    const told = await h.db.sql<{ body: string }[]>`
      select m.body from messages m
      join conversation_members cm on cm.conversation_id = m.conversation_id
      where cm.user_id = ${bob.id} and m.body like 'You were warned by the staff%' order by m.id`;
    expect(told.length).toBe(2);
    expect(told.map((m) => m.body.replace(/ \(until \d{4}-\d{2}-\d{2}\)\.$/, ""))).toEqual([
      "You were warned by the staff: Hit and run <again>",
      "You were warned by the staff: Abusive comment",
    ]);
    const mine = await expectJson<{ active: number; pause_after: number }>(
      await h.call(`/api/v1/users/${bob.id}/warnings`, { as: { token: bob.token } }),
    );
    expect(mine).toMatchObject({ active: 2, pause_after: 2 });
    await expectError(
      await h.call(`/api/v1/users/${bob.id}/warnings`, { as: { token: alice.token } }),
      403,
      "forbidden",
    );

    // Lifting one ends the pause at once.
    expect(
      (await h.call(`/api/v1/warnings/${second.id}/lift`, { method: "POST", as: { token: mod.token } }))
        .status,
    ).toBe(204);
    expect(await leech(bob)).toBeNull();
    expect((await log("warning", second.id)).map((l) => l.action)).toEqual(["warning.lift"]);
    expect((await log("member", bob.id)).map((l) => l.action)).toEqual(["member.warn", "member.warn"]);

    // Another warning pauses again; once it expires, the hourly check lifts the pause.
    const third = await expectJson<{ id: number }>(
      await h.call(`/api/v1/users/${bob.id}/warnings`, {
        as: { token: mod.token },
        json: { reason: "Third", days: 1 },
      }),
      201,
    );
    expect(await leech(bob)).toStartWith("New downloads are paused");
    await h.db
      .sql`update warnings set created_at = now() - interval '2 days', expires_at = now() - interval '1 hour' where id = ${third.id}`;
    expect(await checkWarningPauses(h.db.sql, h.deps.config, h.deps.sync)).toEqual([bob.id]);
    expect(await leech(bob)).toBeNull();
    const banner = await (await h.request("/torrents", { cookie: bob.cookie })).text();
    expect(banner).toContain("You have 1 active warning ");
  });
});

describe("reports", () => {
  test("a member reports; staff claim and resolve with a note; the reporter sees the outcome", async () => {
    const [comment] = await h.db.sql<{ id: number }[]>`
      insert into comments (torrent_id, author_id, body) values (${torrentId}, ${alice.id}, 'rude') returning id
    `;
    const form = await (
      await h.request(`/reports/new?type=comment&id=${comment!.id}`, { cookie: bob.cookie })
    ).text();
    expect(form).toContain("You are reporting comment");
    const filed = await h.request("/reports", {
      cookie: bob.cookie,
      form: { type: "comment", id: String(comment!.id), reason: "Rude <b>words</b>", _csrf: bob.csrf },
    });
    expect(filed.status).toBe(303);
    // The same target again, nothing, and an unknown one are refused.
    const again = await h.request("/reports", {
      cookie: bob.cookie,
      form: { type: "comment", id: String(comment!.id), reason: "Again", _csrf: bob.csrf },
    });
    expect(again.status).toBe(409);
    await expectError(
      await h.call("/api/v1/reports", {
        as: { token: bob.token },
        json: { target_type: "torrent", target_id: 999999, reason: "x" },
      }),
      404,
      "not_found",
    );
    await expectError(
      await h.call("/api/v1/reports", {
        as: { token: bob.token },
        json: { target_type: "member", target_id: bob.id, reason: "me" },
      }),
      422,
      "validation",
    );
    const report = await expectJson<{ id: number }>(
      await h.call("/api/v1/reports", {
        as: { token: bob.token },
        json: { target_type: "member", target_id: alice.id, reason: "Spam" },
      }),
      201,
    );
    const queue = await (await h.request("/staff/reports", { cookie: mod.cookie })).text();
    expect(queue).toContain("Rude &lt;b&gt;words&lt;/b&gt;");
    expect(queue).toContain("Spam");
    expect((await h.request("/staff/reports", { cookie: alice.cookie })).status).toBe(403);

    const claimed = await h.request(`/staff/reports/${report.id}/act`, {
      cookie: mod.cookie,
      form: { action: "claim", _csrf: mod.csrf },
    });
    expect(claimed.status).toBe(303);
    const resolved = await expectJson<{ status: string }>(
      await h.call(`/api/v1/reports/${report.id}/action`, {
        as: { token: mod.token },
        json: { action: "resolve", note: "Warned the member" },
      }),
    );
    expect(resolved.status).toBe("resolved");
    await expectError(
      await h.call(`/api/v1/reports/${report.id}/action`, {
        as: { token: mod.token },
        json: { action: "dismiss" },
      }),
      409,
      "conflict",
    );
    const mine = await (await h.request("/reports", { cookie: bob.cookie })).text();
    expect(mine).toContain("Resolved by the staff: Warned the member");
    // The outcome also arrives as a system message to the reporter.
    const told = await h.db.sql<{ body: string }[]>`
      select m.body from messages m
      join conversation_members cm on cm.conversation_id = m.conversation_id
      where cm.user_id = ${bob.id} and m.body like 'Resolved by the staff%'`;
    expect(told.map((m) => m.body)).toEqual(["Resolved by the staff: Warned the member"]);
    expect(mine).toContain("Waiting for the staff.");
    const api = await expectJson<{ items: { status: string; outcome: string }[] }>(
      await h.call("/api/v1/reports", { as: { token: bob.token } }),
    );
    expect(api.items.map((i) => i.status).sort()).toEqual(["open", "resolved"]);
    expect((await log("report", report.id)).map((l) => [l.action, l.after])).toEqual([
      ["report.claim", { status: "claimed", claimedBy: mod.id }],
      ["report.resolve", { status: "resolved", note: "Warned the member" }],
    ]);
  });

  test("reports are throttled per hour (site.reportsPerHour)", async () => {
    // bob filed 2 reports above; the limit here is 3 an hour.
    await expectJson(
      await h.call("/api/v1/reports", {
        as: { token: bob.token },
        json: { target_type: "torrent", target_id: torrentId, reason: "Fake" },
      }),
      201,
    );
    const refused = await h.call("/api/v1/reports", {
      as: { token: bob.token },
      json: { target_type: "member", target_id: mod.id, reason: "One more" },
    });
    expect(refused.headers.get("retry-after")).not.toBeNull();
    await expectError(refused, 429, "rate_limited");
  });
});

describe("invites", () => {
  test("a disabled inviter's open invite, or one who lost the invite role, cannot be claimed", async () => {
    const made = await expectJson<{ secret: string }>(
      await h.call("/api/v1/invites", { as: { token: alice.token }, json: {} }),
      201,
    );
    expect((await expectJson<{ state: string }>(await h.call(`/api/v1/invites/${made.secret}`))).state).toBe(
      "open",
    );
    await expectJson(
      await h.call(`/api/v1/users/${alice.id}/roles/invite`, {
        method: "DELETE",
        as: { token: admin.token },
      }),
    );
    expect((await expectJson<{ state: string }>(await h.call(`/api/v1/invites/${made.secret}`))).state).toBe(
      "withdrawn",
    );
    const claim = await h.call(`/api/v1/invites/${made.secret}/claim`, {
      json: { name: "newbie", password: "password123" },
    });
    const error = await expectError(claim, 410, "gone");
    expect(error.message).toContain("may no longer invite");
    const page = await h.request(`/register/${made.secret}`, {
      form: { name: "newbie", password: "password123", confirm: "password123" },
    });
    expect(page.status).toBe(410);
    expect(await page.text()).toContain("Invite withdrawn");
    // Given the role back, the same invite works again (it was never revoked).
    await expectJson(
      await h.call(`/api/v1/users/${alice.id}/roles/invite`, { method: "PUT", as: { token: admin.token } }),
    );
    expect((await expectJson<{ state: string }>(await h.call(`/api/v1/invites/${made.secret}`))).state).toBe(
      "open",
    );
    // Disabled: refused again.
    expect(
      (await h.call(`/api/v1/users/${alice.id}/disable`, { method: "POST", as: { token: mod.token } }))
        .status,
    ).toBeLessThan(300);
    await expectError(
      await h.call(`/api/v1/invites/${made.secret}/claim`, {
        json: { name: "newbie", password: "password123" },
      }),
      410,
      "gone",
    );
    const [members] = await h.db.sql<
      { n: number }[]
    >`select count(*)::int as n from users where name = 'newbie'`;
    expect(members!.n).toBe(0);
  });

  test("a first-account link printed before anyone registered cannot make a second member", async () => {
    const old = await createInvite(h.db.sql, { inviterId: null, days: 1 });
    expect((await expectJson<{ state: string }>(await h.call(`/api/v1/invites/${old.secret}`))).state).toBe(
      "first_done",
    );
    const error = await expectError(
      await h.call(`/api/v1/invites/${old.secret}/claim`, {
        json: { name: "intruder", password: "password123" },
      }),
      410,
      "gone",
    );
    expect(error.message).toContain("first account exists");
    const [n] = await h.db.sql<{ n: number }[]>`select count(*)::int as n from users where name = 'intruder'`;
    expect(n!.n).toBe(0);
  });

  test("staff see who invited whom, and revoke a member's open invites (recorded)", async () => {
    const invited = await expectJson<{ id: number }>(
      await h.call(
        `/api/v1/invites/${(await createInvite(h.db.sql, { inviterId: mod.id, days: 3 })).secret}/claim`,
        {
          json: { name: "dave", password: "password123" },
        },
      ),
      201,
    );
    await createInvite(h.db.sql, { inviterId: mod.id, days: 3 });
    const tree = await expectJson<{
      members: { id: number; invited_by: number | null; open_invites: number }[];
    }>(await h.call("/api/v1/invite-tree", { as: { token: mod.token } }));
    const ids = tree.members.map((m) => m.id);
    expect(ids.indexOf(invited.id)).toBe(ids.indexOf(mod.id) + 1);
    expect(tree.members.find((m) => m.id === invited.id)!.invited_by).toBe(mod.id);
    expect(tree.members.find((m) => m.id === mod.id)!.open_invites).toBe(1);
    const page = await (await h.request("/staff/invites", { cookie: mod.cookie })).text();
    expect(page).toContain("dave");
    expect((await h.request("/staff/invites", { cookie: bob.cookie })).status).toBe(403);
    const revoked = await h.request(`/staff/invites/${mod.id}/revoke`, {
      cookie: admin.cookie,
      form: { _csrf: admin.csrf },
    });
    expect(revoked.status).toBe(303);
    expect((await log("member", mod.id)).map((l) => [l.actorId, l.action])).toEqual([
      [admin.id, "invite.revoke"],
    ]);
    await expectError(
      await h.call(`/api/v1/users/${mod.id}/invites/revoke`, { method: "POST", as: { token: admin.token } }),
      404,
      "not_found",
    );
  });
});
