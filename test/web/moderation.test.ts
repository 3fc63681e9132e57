// The moderation queue over real HTTP: an upload by a member without the trusted role waits,
// hidden from everyone but its uploader and the staff, refused by a real tracker over a socket
// (with a short retry interval) until a moderator approves it; the decision reaches the tracker
// through the bridge, is shown to the uploader and recorded in the staff log.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import bencode from "bencode";
import { trackerTorrents } from "../../src/db/queries/torrents.ts";
import { trackerUsers } from "../../src/db/queries/users.ts";
import { createTrackerApp } from "../../src/tracker/app.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
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
let tracker: Tracker;
let app: ReturnType<typeof createTrackerApp>;
const now = Math.floor(Date.now() / 1000);
type Who = { id: number; token: string; cookie: string; csrf: string; passkey: string };
let mod: Who;
let uploader: Who;
let trusted: Who;
let other: Who;
let held = 0;
let open = 0;

async function who(name: string, roles: Parameters<ApiHarness["member"]>[1]): Promise<Who> {
  const m = await h.memberWithToken(name, roles);
  const { cookie, csrf } = await h.login(name);
  const [row] = await h.db.sql<{ passkey: string }[]>`select passkey from users where id = ${m.id}`;
  return { ...m, cookie, csrf, passkey: row!.passkey };
}

/** Hands the tracker what the web side sent it, as the Worker applies it. */
function pass(): void {
  for (const m of h.sent.splice(0)) {
    if (m.kind === "torrent-upsert") tracker.upsertTorrent(m.torrent);
    if (m.kind === "user-upsert") tracker.upsertUser(m.user);
  }
}

async function announce(as: Who, torrentId: number, left = 0): Promise<Record<string, unknown>> {
  const [row] = await h.db.sql<
    { infoHash: Uint8Array }[]
  >`select info_hash from torrents where id = ${torrentId}`;
  const query = announceQuery({
    infoHash: row!.infoHash,
    peerId: new TextEncoder().encode(`-qB4520-${as.id}`.padEnd(20, "x")),
    left,
  });
  const response = await fetch(`http://127.0.0.1:${app.server!.port}/${as.passkey}/announce?${query}`);
  expect(response.status).toBe(200);
  return bencode.decode(Buffer.from(await response.arrayBuffer())) as Record<string, unknown>;
}

const reasonOf = (body: Record<string, unknown>) =>
  body["failure reason"] ? Buffer.from(body["failure reason"] as Uint8Array).toString() : null;

beforeAll(async () => {
  h = await apiHarness({ FAIRYWREN_MODERATE_UPLOADS: "true" });
  await h.member("root_admin");
  mod = await who("moder", ["moderate"]);
  uploader = await who("uploader", ["upload"]);
  trusted = await who("trusty", ["upload", "trusted"]);
  other = await who("other", ["upload"]);
  const page = await h.request("/upload", {
    cookie: uploader.cookie,
    form: uploadForm(smallTorrent("Held back"), { _csrf: uploader.csrf }),
  });
  expect(page.status).toBe(303);
  expect(page.headers.get("location")).toContain("uploaded=held");
  held = Number(/torrents\/(\d+)/.exec(page.headers.get("location")!)![1]);
  const api = await h.call("/api/v1/torrents", {
    as: { token: trusted.token },
    form: uploadForm(smallTorrent("Straight through")),
  });
  open = (await expectJson<{ id: number; moderation: string }>(api, 201)).id;
  tracker = new Tracker({ ...h.deps.config.tracker, minAnnounceIntervalSeconds: 0 }, () => 0);
  tracker.load(await trackerUsers(h.db.sql), await trackerTorrents(h.db.sql));
  app = createTrackerApp(tracker, { pathDepth: 0, trustedProxies: [], now: () => now });
  app.listen({ hostname: "127.0.0.1", port: 0 });
  h.sent.splice(0);
}, 180_000);

afterAll(async () => {
  await app?.stop(true);
  await h?.close();
});

describe("an upload held for moderation", () => {
  test("is pending for a plain uploader, approved for a trusted one", async () => {
    const rows = await h.db.sql<{ id: number; moderation: string }[]>`
      select id, moderation from torrents order by id
    `;
    expect([...rows]).toEqual([
      { id: held, moderation: "pending" },
      { id: open, moderation: "approved" },
    ]);
  });

  test("is listed only to its uploader and the staff, on pages and in the API", async () => {
    const listed = async (as: Who) => {
      const page = await (await h.request("/torrents", { cookie: as.cookie })).text();
      const api = await expectJson<{ items: { id: number }[] }>(
        await h.call("/api/v1/torrents", { as: { token: as.token } }),
      );
      return { page: page.includes("Held back"), api: api.items.some((i) => i.id === held) };
    };
    expect(await listed(other)).toEqual({ page: false, api: false });
    expect(await listed(uploader)).toEqual({ page: true, api: true });
    expect(await listed(mod)).toEqual({ page: true, api: true });
    // Searching by its title and sorting by seeders go through other plans: hidden there too.
    const search = await (await h.request("/torrents?q=held&sort=seeders", { cookie: other.cookie })).text();
    expect(search).not.toContain("Held back");
    const searchOwn = await (
      await h.request("/torrents?q=held&sort=seeders", { cookie: uploader.cookie })
    ).text();
    expect(searchOwn).toContain("Held back");
  });

  test("its page, download and API detail answer 404 to other members", async () => {
    expect((await h.request(`/torrents/${held}`, { cookie: other.cookie })).status).toBe(404);
    expect((await h.request(`/torrents/${held}/download`, { cookie: other.cookie })).status).toBe(404);
    await expectError(
      await h.call(`/api/v1/torrents/${held}`, { as: { token: other.token } }),
      404,
      "not_found",
    );
    const own = await h.request(`/torrents/${held}`, { cookie: uploader.cookie });
    expect(own.status).toBe(200);
    expect(await own.text()).toContain("Waiting for moderation");
    expect((await h.request(`/torrents/${held}/download`, { cookie: uploader.cookie })).status).toBe(200);
  });

  test("the feeds leave it out, even the uploader's own", async () => {
    const [row] = await h.db.sql<{ rssKey: string }[]>`select rss_key from users where id = ${uploader.id}`;
    const feed = await (await h.request(`/rss/${row!.rssKey}`)).text();
    expect(feed).toContain("Straight through");
    expect(feed).not.toContain("Held back");
  });

  test("the tracker refuses it with a retry interval, and serves it once approved", async () => {
    const waiting = await announce(uploader, held);
    expect(reasonOf(waiting)).toStartWith("This torrent is waiting for moderation");
    expect(waiting.interval).toBe(60);
    expect(waiting["min interval"]).toBe(60);
    // The approved one is served as usual.
    expect(reasonOf(await announce(trusted, open))).toBeNull();

    // A plain member cannot decide; nothing changes.
    const refused = await h.request(`/staff/queue/${held}/decide`, {
      cookie: other.cookie,
      form: { decision: "approve", _csrf: other.csrf },
    });
    expect(refused.status).toBe(403);
    await expectError(
      await h.call(`/api/v1/torrents/${held}/moderation`, {
        as: { token: other.token },
        json: { decision: "approve" },
      }),
      403,
      "forbidden",
    );
    // A rejection needs a reason.
    const noReason = await h.request(`/staff/queue/${held}/decide`, {
      cookie: mod.cookie,
      form: { decision: "reject", note: " ", _csrf: mod.csrf },
    });
    expect(noReason.status).toBe(422);
    expect(await noReason.text()).toContain("Say why");
    expect((await h.db.sql`select moderation from torrents where id = ${held}`)[0]!.moderation).toBe(
      "pending",
    );

    const queue = await (await h.request("/staff/queue", { cookie: mod.cookie })).text();
    expect(queue).toContain("Held back");
    expect(queue).not.toContain("Straight through");

    const rejected = await h.request(`/staff/queue/${held}/decide`, {
      cookie: mod.cookie,
      form: { decision: "reject", note: "Wrong <b>category</b>", _csrf: mod.csrf },
    });
    expect(rejected.status).toBe(303);
    pass();
    expect(reasonOf(await announce(uploader, held))).toBe("rejected: Wrong <b>category</b>");
    const own = await (await h.request(`/torrents/${held}`, { cookie: uploader.cookie })).text();
    expect(own).toContain("Rejected by a moderator: Wrong &lt;b&gt;category&lt;/b&gt;");
    const account = await (await h.request("/account", { cookie: uploader.cookie })).text();
    expect(account).toContain("Rejected by a moderator");
    // The decision also arrives as a system message in the uploader's conversations.
    const told = await h.db.sql<{ body: string }[]>`
      select m.body from messages m
      join conversation_members cm on cm.conversation_id = m.conversation_id
      where cm.user_id = ${uploader.id} and m.body like 'Rejected by a moderator%'`;
    expect(told.map((m) => m.body)).toEqual(["Rejected by a moderator: Wrong <b>category</b>."]);

    const approved = await expectJson<{ moderation: string }>(
      await h.call(`/api/v1/torrents/${held}/moderation`, {
        as: { token: mod.token },
        json: { decision: "approve" },
      }),
    );
    expect(approved.moderation).toBe("approved");
    await expectError(
      await h.call(`/api/v1/torrents/${held}/moderation`, {
        as: { token: mod.token },
        json: { decision: "approve" },
      }),
      409,
      "conflict",
    );
    pass();
    const served = await announce(uploader, held);
    expect(reasonOf(served)).toBeNull();
    expect(served.interval).toBeGreaterThan(60);
    expect((await h.request(`/torrents/${held}`, { cookie: other.cookie })).status).toBe(200);

    const log = await h.db.sql<{ actorId: number; action: string; before: unknown; after: unknown }[]>`
      select actor_id, action, before, after from staff_actions where target_type = 'torrent' and target_id = ${held}
      order by id
    `;
    expect([...log]).toEqual([
      {
        actorId: mod.id,
        action: "torrent.reject",
        before: { moderation: "pending", note: "" },
        after: { moderation: "rejected", note: "Wrong <b>category</b>" },
      },
      {
        actorId: mod.id,
        action: "torrent.approve",
        before: { moderation: "rejected", note: "Wrong <b>category</b>" },
        after: { moderation: "approved", note: "" },
      },
    ]);
  });

  test("postponing keeps it pending at the back of the queue, and the API lists the queue", async () => {
    const a = await expectJson<{ id: number }>(
      await h.call("/api/v1/torrents", {
        as: { token: other.token },
        form: uploadForm(smallTorrent("First wait")),
      }),
      201,
    );
    const b = await expectJson<{ id: number }>(
      await h.call("/api/v1/torrents", {
        as: { token: other.token },
        form: uploadForm(smallTorrent("Second wait")),
      }),
      201,
    );
    const order = async () =>
      (
        await expectJson<{ items: { id: number }[]; pending: number }>(
          await h.call("/api/v1/moderation", { as: { token: mod.token } }),
        )
      ).items.map((i) => i.id);
    expect(await order()).toEqual([a.id, b.id]);
    const postponed = await h.request(`/staff/queue/${a.id}/decide`, {
      cookie: mod.cookie,
      form: { decision: "postpone", note: "Waiting for a better description", _csrf: mod.csrf },
    });
    expect(postponed.status).toBe(303);
    expect(await order()).toEqual([b.id, a.id]);
    const page = await (await h.request(`/torrents/${a.id}`, { cookie: other.cookie })).text();
    expect(page).toContain("Waiting for a better description");
    await expectError(await h.call("/api/v1/moderation", { as: { token: other.token } }), 403, "forbidden");
  });
});
