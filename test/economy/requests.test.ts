// Requests with bounties over real HTTP (the JSON API on a socket): the bounty taken from the
// balance at once, fills, who may accept or reject them, the award paid once to the filler however
// many accepts race, contributions that cannot overdraw a balance, the refunds of an expiry made
// once however often (or concurrently) the job runs, and the list's search and filters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { frontOptions, webFetch } from "../../src/web/app.tsx";
import { runRequestExpiry } from "../../src/web/requests/service.ts";
import { type ApiHarness, apiHarness } from "../helpers/api.ts";
import { torrent } from "./fixtures.ts";

const DAY = 86_400_000;
const NOW = Date.UTC(2030, 0, 1, 12, 0);

let h: ApiHarness;
let server: ReturnType<typeof Bun.serve>;
const ids: Record<string, number> = {};
const tokens: Record<string, string> = {};
let hour = 0;

interface ApiAnswer {
  status: number;
  body: Record<string, unknown> & {
    error?: { code: string; message: string; fields?: Record<string, string> };
  };
}

async function call(
  who: string | null,
  path: string,
  init: { json?: unknown; method?: string } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (who) headers.authorization = `Bearer ${tokens[who]!}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`http://127.0.0.1:${server.port}/api/v1${path}`, {
    method: init.method ?? (init.json !== undefined ? "POST" : "GET"),
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });
  return { status: response.status, body: (await response.json()) as ApiAnswer["body"] };
}

/** The member's balance in thousandths of a point: the sum of their ledger. */
async function balance(name: string): Promise<number> {
  const [row] = await h.db.sql<{ total: string }[]>`
    select coalesce(sum(millipoints), 0)::text as total from bonus_ledger where user_id = ${ids[name]!}
  `;
  return Number(row!.total);
}

/** Gives a member points, as a seeding earning for an hour of its own. */
async function grant(name: string, points: number) {
  hour++;
  await h.db.sql`
    insert into bonus_ledger (user_id, hour, millipoints, reason)
    values (${ids[name]!}, ${new Date(Date.UTC(2020, 0, 1) + hour * 3_600_000)}, ${points * 1000}, 'seeding')
  `;
}

/** Every point ever put on a bounty is held, paid out or refunded: the ledger balances. */
async function escrowHolds() {
  const [row] = await h.db.sql<{ put: string; out: string; held: string }[]>`
    select
      (select coalesce(-sum(millipoints), 0) from bonus_ledger where reason = 'request_bounty')::text as put,
      (select coalesce(sum(millipoints), 0) from bonus_ledger where reason in ('request_refund', 'request_award'))::text as out,
      (select coalesce(sum(bounty_millipoints), 0) from requests where status in ('open', 'pending'))::text as held
  `;
  expect(Number(row!.put)).toBe(Number(row!.out) + Number(row!.held));
}

async function makeRequest(who: string, title: string, points: number, extra: Record<string, unknown> = {}) {
  const made = await call(who, "/requests", { json: { title, points, ...extra } });
  expect(made.status).toBe(201);
  return made.body.id as number;
}

beforeAll(async () => {
  h = await apiHarness({ FAIRYWREN_REQUESTS_MIN_BOUNTY: "10", FAIRYWREN_REQUESTS_EXPIRE_DAYS: "30" });
  for (const name of ["root", "alice", "bob", "carol", "dave", "erin"]) {
    const m = await h.memberWithToken(name);
    ids[name] = m.id;
    tokens[name] = m.token;
  }
  const front = webFetch(h.app, frontOptions(h.deps.config));
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request, s) => front(request, s) });
  Object.assign(h.deps, { clock: () => new Date(NOW) });
}, 180_000);

afterAll(async () => {
  server?.stop(true);
  await h?.close();
});

describe("making a request and adding to its bounty", () => {
  test("the bounty is taken from the balance at once, as a ledger row", async () => {
    await grant("alice", 100);
    const id = await makeRequest("alice", "Debian 12 netinst", 40, {
      description: "The **arm64** image",
      tags: ["Linux", "debian"],
    });
    expect(await balance("alice")).toBe(60_000);
    const shown = await call("alice", `/requests/${id}`);
    expect(shown.body).toMatchObject({
      title: "Debian 12 netinst",
      status: "open",
      bounty: 40,
      contributors: 1,
      tags: ["linux", "debian"],
      requester: { id: ids.alice, name: "alice" },
      can_fill: false,
      can_contribute: true,
      can_answer: false,
    });
    expect(shown.body.html).toContain("<strong>arm64</strong>");
    expect(new Date(shown.body.expires_at as string).getTime()).toBe(NOW + 30 * DAY);
    const rows = await h.db
      .sql`select millipoints, reason, request_id from bonus_ledger where user_id = ${ids.alice!} and reason <> 'seeding'`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { millipoints: -40_000, reason: "request_bounty", requestId: id },
    ]);
    await escrowHolds();
  });

  test("a balance too small, a bounty under the minimum or a bad title changes nothing", async () => {
    await grant("bob", 5);
    const before = await h.db.sql`select count(*)::int as n from requests`;
    const poor = await call("bob", "/requests", { json: { title: "Something", points: 10 } });
    expect(poor.status).toBe(409);
    expect(poor.body.error!.fields!.points).toContain("You have 5 bonus points");
    const small = await call("alice", "/requests", { json: { title: "Something", points: 9 } });
    expect(small.status).toBe(422);
    expect(small.body.error!.fields!.points).toContain("at least 10");
    const blank = await call("alice", "/requests", { json: { title: "   ", points: 10 } });
    expect(blank.status).toBe(422);
    expect(Object.keys(blank.body.error!.fields!)).toEqual(["title"]);
    const tags = await call("alice", "/requests", {
      json: { title: "x", points: 10, tags: ["no spaces<>"] },
    });
    expect(tags.status).toBe(422);
    expect(await h.db.sql`select count(*)::int as n from requests`).toEqual(before);
    expect(await balance("bob")).toBe(5000);
    expect(await balance("alice")).toBe(60_000);
  });

  test("any member adds to a bounty; contributions racing for one balance never overdraw it", async () => {
    const id = await makeRequest("alice", "Arch Linux ISO", 10);
    await grant("carol", 100);
    const added = await call("carol", `/requests/${id}/bounty`, { json: { points: 30 } });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ bounty: 40, contributors: 2 });
    // 70 points left: ten contributions of 30 at once, only two fit.
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => call("carol", `/requests/${id}/bounty`, { json: { points: 30 } })),
    );
    expect(answers.filter((a) => a.status === 200).length).toBe(2);
    expect(answers.filter((a) => a.status === 409).length).toBe(8);
    expect(await balance("carol")).toBe(10_000);
    const [row] = await h.db.sql<
      { bountyMillipoints: string }[]
    >`select bounty_millipoints::text from requests where id = ${id}`;
    expect(Number(row!.bountyMillipoints)).toBe(100_000);
    for (const bad of [0, -5, 1.5, "ten"]) {
      const refused = await call("carol", `/requests/${id}/bounty`, { json: { points: bad } });
      expect(refused.status).toBe(422);
    }
    expect((await call("carol", "/requests/999999/bounty", { json: { points: 1 } })).status).toBe(404);
    expect(await balance("carol")).toBe(10_000);
    await escrowHolds();
  });
});

describe("filling, accepting and rejecting", () => {
  let requestId: number;
  let torrentId: number;

  beforeAll(async () => {
    await grant("dave", 200);
    requestId = await makeRequest("dave", "Ubuntu 24.04 desktop", 50);
    await grant("erin", 30);
    expect((await call("erin", `/requests/${requestId}/bounty`, { json: { points: 30 } })).status).toBe(200);
    torrentId = await torrent(h.db.sql, { title: "Ubuntu 24.04 desktop amd64", size: 2 ** 30 });
  });

  test("the requester cannot fill their own request; a missing torrent is refused", async () => {
    const own = await call("dave", `/requests/${requestId}/fill`, { json: { torrent: torrentId } });
    expect(own.status).toBe(403);
    const missing = await call("bob", `/requests/${requestId}/fill`, { json: { torrent: 987654 } });
    expect(missing.status).toBe(404);
    const junk = await call("bob", `/requests/${requestId}/fill`, { json: { torrent: "not a link" } });
    expect(junk.status).toBe(422);
    expect((await call("bob", `/requests/${requestId}`)).body.status).toBe("open");
  });

  test("a member fills it by link; only the requester or staff may answer", async () => {
    const filled = await call("bob", `/requests/${requestId}/fill`, {
      json: { torrent: `https://tracker.example/torrents/${torrentId}?x=1` },
    });
    expect(filled.status).toBe(200);
    expect(filled.body).toMatchObject({
      status: "pending",
      torrent: { id: torrentId, title: "Ubuntu 24.04 desktop amd64" },
      filler: { id: ids.bob, name: "bob" },
    });
    // A second fill while one waits is refused.
    expect(
      (await call("carol", `/requests/${requestId}/fill`, { json: { torrent: torrentId } })).status,
    ).toBe(409);
    // Neither the filler nor a contributor may accept or reject.
    for (const who of ["bob", "erin", "carol"]) {
      expect((await call(who, `/requests/${requestId}/accept`, { method: "POST" })).status).toBe(403);
      expect((await call(who, `/requests/${requestId}/reject`, { method: "POST" })).status).toBe(403);
    }
    expect((await call(null, `/requests/${requestId}/accept`, { method: "POST" })).status).toBe(401);
    expect((await call("dave", `/requests/${requestId}`)).body.can_answer).toBe(true);
    expect((await call("bob", `/requests/${requestId}`)).body.can_answer).toBe(false);
    expect((await call("root", `/requests/${requestId}`)).body.can_answer).toBe(true);
  });

  test("rejecting opens it again with its bounty; staff may reject too", async () => {
    const rejected = await call("root", `/requests/${requestId}/reject`, { method: "POST" });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: "open", torrent: null, filler: null, bounty: 80 });
    expect((await call("dave", `/requests/${requestId}/reject`, { method: "POST" })).status).toBe(409);
  });

  test("accepts racing each other pay the filler the whole bounty exactly once", async () => {
    const bobBefore = await balance("bob");
    expect(
      (await call("bob", `/requests/${requestId}/fill`, { json: { torrent: String(torrentId) } })).status,
    ).toBe(200);
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () => call("dave", `/requests/${requestId}/accept`, { method: "POST" })),
      ...Array.from({ length: 4 }, () => call("root", `/requests/${requestId}/accept`, { method: "POST" })),
    ]);
    expect(answers.filter((a) => a.status === 200).length).toBe(1);
    expect(answers.filter((a) => a.status === 409).length).toBe(9);
    expect(await balance("bob")).toBe(bobBefore + 80_000);
    const awards = await h.db
      .sql`select user_id, millipoints from bonus_ledger where reason = 'request_award' and request_id = ${requestId}`;
    expect(awards.map((r) => ({ ...r }))).toEqual([{ userId: ids.bob!, millipoints: 80_000 }]);
    const shown = await call("dave", `/requests/${requestId}`);
    expect(shown.body).toMatchObject({
      status: "filled",
      can_contribute: false,
      can_answer: false,
      can_fill: false,
    });
    // Nothing more goes onto a filled request, and it cannot be reopened.
    expect((await call("erin", `/requests/${requestId}/bounty`, { json: { points: 1 } })).status).toBe(409);
    expect((await call("dave", `/requests/${requestId}/reject`, { method: "POST" })).status).toBe(409);
    await escrowHolds();
  });

  test("the torrent's page links back to the request it filled", async () => {
    await h.member("viewer");
    const { cookie } = await h.login("viewer");
    const page = await (
      await fetch(`http://127.0.0.1:${server.port}/torrents/${torrentId}`, { headers: { cookie } })
    ).text();
    expect(page).toContain(`href="/requests/${requestId}"`);
    expect(page).toContain("Filled the request");
  });
});

describe("expiry", () => {
  test("an unfilled request expires after requests.expireDays and refunds each contribution, once", async () => {
    await grant("alice", 50);
    await grant("erin", 20);
    const lone = await makeRequest("alice", "Expiring alone", 15);
    const shared = await makeRequest("alice", "Expiring shared", 20);
    expect((await call("erin", `/requests/${shared}/bounty`, { json: { points: 12 } })).status).toBe(200);
    expect((await call("carol", `/requests/${shared}/bounty`, { json: { points: 5 } })).status).toBe(200);
    // A fill waiting at the date does not keep it alive.
    const waiting = await makeRequest("alice", "Expiring while waiting", 10);
    const t = await torrent(h.db.sql, { size: 1000 });
    expect((await call("bob", `/requests/${waiting}/fill`, { json: { torrent: t } })).status).toBe(200);
    const before = {
      alice: await balance("alice"),
      erin: await balance("erin"),
      carol: await balance("carol"),
    };

    // A day before the date nothing expires.
    expect((await runRequestExpiry(h.db.sql, h.deps.config, new Date(NOW + 29 * DAY))).requests).toBe(0);
    const due = new Date(NOW + 30 * DAY);
    // Two runs at once (two web processes): each request once, each contribution refunded once.
    const [a, b] = await Promise.all([
      runRequestExpiry(h.db.sql, h.deps.config, due),
      runRequestExpiry(h.db.sql, h.deps.config, due),
    ]);
    expect(a.requests + b.requests).toBe(5);
    expect(await runRequestExpiry(h.db.sql, h.deps.config, new Date(NOW + 40 * DAY))).toEqual({
      requests: 0,
      refunds: 0,
      millipoints: 0,
    });
    // Alice's and Carol's earlier requests (Debian, Arch) were still open: refunded with these.
    expect(await balance("alice")).toBe(before.alice + 45_000 + 40_000 + 10_000);
    expect(await balance("erin")).toBe(before.erin + 12_000);
    expect(await balance("carol")).toBe(before.carol + 5_000 + 90_000);
    for (const id of [lone, shared, waiting]) {
      const shown = await call("alice", `/requests/${id}`);
      expect(shown.body.status).toBe("expired");
      expect(shown.body.can_contribute).toBe(false);
    }
    const refunds = await h.db.sql<{ n: number; bounties: number }[]>`
      select count(*)::int as n, count(distinct bounty_id)::int as bounties
      from bonus_ledger where reason = 'request_refund'
    `;
    // Debian 1, Arch 1 + Carol's 3, lone 1, shared 3, waiting 1.
    expect(refunds[0]).toEqual({ n: 10, bounties: 10 });
    // The filled request from before is untouched.
    const [filled] = await h.db.sql`select count(*)::int as n from requests where status = 'filled'`;
    expect(filled!.n).toBe(1);
    expect((await call("erin", `/requests/${shared}/bounty`, { json: { points: 1 } })).status).toBe(409);
    expect((await call("carol", `/requests/${lone}/fill`, { json: { torrent: t } })).status).toBe(409);
    await escrowHolds();
  });
});

describe("the list", () => {
  test("searches titles by words and filters by status and category", async () => {
    const [cat] = await h.db.sql<
      { id: number }[]
    >`insert into categories (name, icon) values ('Software', 'app') returning id`;
    await grant("alice", 100);
    const mine = await makeRequest("alice", "FreeBSD 14 memstick image", 10, { category_id: cat!.id });
    const other = await makeRequest("alice", "OpenBSD 7.5 install image", 30, { category_id: cat!.id });
    const titles = async (query: string) =>
      ((await call("carol", `/requests${query}`)).body.items as { title: string }[]).map((r) => r.title);
    expect(await titles("?q=bsd%20IMAGE")).toEqual([
      "OpenBSD 7.5 install image",
      "FreeBSD 14 memstick image",
    ]);
    expect(await titles("?q=freebsd%20image")).toEqual(["FreeBSD 14 memstick image"]);
    expect(await titles("?q=%25")).toEqual([]);
    expect(await titles(`?category=${cat!.id}&sort=bounty`)).toEqual([
      "OpenBSD 7.5 install image",
      "FreeBSD 14 memstick image",
    ]);
    expect(await titles("?status=filled")).toEqual(["Ubuntu 24.04 desktop"]);
    expect((await titles("?status=expired")).sort()).toEqual([
      "Arch Linux ISO",
      "Debian 12 netinst",
      "Expiring alone",
      "Expiring shared",
      "Expiring while waiting",
    ]);
    const active = await titles("");
    expect(active).toContain("FreeBSD 14 memstick image");
    expect(active).not.toContain("Ubuntu 24.04 desktop");
    expect((await call("carol", "/requests?status=nonsense")).status).toBe(422);
    expect((await call("carol", "/requests?page=0")).status).toBe(422);
    expect((await call(null, "/requests")).status).toBe(401);
    expect([mine, other].every((id) => id > 0)).toBe(true);
  });
});
