// Suspicious transfers on the web side: batches from a real Tracker written by the writer (once,
// whatever retries), the moderators' page and the API, who may see them, and a tally that cannot
// overflow.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SuspiciousWriter } from "../../src/bridge/suspicious.ts";
import { SUSPICIOUS_FIELDS, type SuspiciousBatch } from "../../src/shared/channel.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { announceQuery, bytes20 } from "../helpers/announce.ts";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";
import { testPolicy } from "../helpers/policy.ts";

const POLICY = testPolicy({
  minAnnounceIntervalSeconds: 0,
  maxRateBytesPerSecond: 1000,
  graceMaxPeers: 1000,
});
const T0 = 1_800_000_000;
const HASH = bytes20(3);
const IP = new Uint8Array([10, 0, 0, 9]);

let h: ApiHarness;
let writer: SuspiciousWriter;
let cheater: { id: number; passkey: string };
let moderator: { cookie: string; token: string };
let plain: { cookie: string; token: string };
let torrentId = 0;
let gone = 0;

/** A tracker with the cheater and two torrents, as the database has them. */
function tracker(): Tracker {
  const t = new Tracker(POLICY, () => 0);
  t.load(
    [{ id: cheater.id, passkey: cheater.passkey, disabled: false }],
    [
      { id: torrentId, infoHash: Buffer.from(HASH).toString("hex"), infoHashV2: null, snatches: 0 },
      { id: gone, infoHash: Buffer.from(bytes20(4)).toString("hex"), infoHashV2: null, snatches: 0 },
    ],
  );
  return t;
}

/** The cheater claims `uploaded` bytes after a first announce, alone in the swarm: one record. */
function claim(t: Tracker, at: number, uploaded: number, agent = "Cheat/0.1", hash = HASH, peer = 1) {
  const peerId = new TextEncoder().encode(`-CH0100-${String(peer).padStart(12, "0")}`);
  const send = (up: number, when: number, event?: string) =>
    t.announce(
      cheater.passkey,
      announceQuery({ infoHash: hash, peerId, uploaded: up, left: 0, event }),
      IP,
      when,
      {
        headers: { get: (name: string) => (name === "user-agent" ? agent : null) },
      },
    );
  // `started` makes a new session of a peer met before (counters back to 0), without a record.
  send(0, at - 10, "started");
  send(uploaded, at);
}

function batchOf(t: Tracker): { seq: number; batch: SuspiciousBatch } {
  const taken = t.takeSuspicious();
  if (!taken) throw new Error("no suspicious transfers");
  return taken;
}

beforeAll(async () => {
  h = await apiHarness();
  await h.member("root");
  const user = await h.member("cheater");
  cheater = { id: user.id, passkey: user.passkey };
  for (const [name, roles] of [
    ["moderator", ["moderate"]],
    ["plain", []],
  ] as const) {
    const member = await h.memberWithToken(name, [...roles]);
    const { cookie } = await h.login(name);
    if (name === "moderator") moderator = { cookie, token: member.token };
    else plain = { cookie, token: member.token };
  }
  const insert = async (hash: Uint8Array, title: string) => {
    const [row] = await h.db.sql`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.from(hash)}, ${title}, 1000, '[]', ${Buffer.from("de")})
      returning id
    `;
    return row!.id as number;
  };
  torrentId = await insert(HASH, "Linux <b>ISO</b>");
  gone = await insert(bytes20(4), "Soon deleted");
  writer = new SuspiciousWriter(h.db.sql, 60_000);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("writing", () => {
  test("a batch is stored once, however often it is retried; a deleted torrent leaves its record", async () => {
    const t = tracker();
    claim(t, T0, 1_000_000_000_000);
    claim(t, T0 + 5, 10_000, "Cheat/0.1", bytes20(4), 2);
    const { seq, batch } = batchOf(t);
    await h.db.sql`delete from torrents where id = ${gone}`;
    writer.add("run-a", seq, batch);
    // The same batch again (a retry after a commit in doubt) changes nothing.
    writer.add("run-a", seq, { ...batch, rows: batch.rows.slice(), peerIds: batch.peerIds.slice() });
    await writer.flush();
    expect(writer.pending).toBe(0);
    const rows = await h.db.sql`
      select user_id, torrent_id, encode(peer_id, 'escape') as peer, user_agent, claimed_up, credited_up,
        seconds, reasons
      from suspicious_transfers order by id`;
    expect([...rows]).toEqual([
      {
        userId: cheater.id,
        torrentId: torrentId,
        peer: "-CH0100-000000000001",
        userAgent: "Cheat/0.1",
        claimedUp: 1_000_000_000_000,
        creditedUp: 0,
        seconds: 10,
        reasons: ["rate", "no_leecher"],
      },
      {
        userId: cheater.id,
        torrentId: null,
        peer: "-CH0100-000000000002",
        userAgent: "Cheat/0.1",
        claimedUp: 10_000,
        creditedUp: 0,
        seconds: 10,
        reasons: ["no_leecher"],
      },
    ]);
    const [tally] = await h.db.sql`select records, uncredited_up::text as up from suspicious_tally`;
    expect(tally).toEqual({ records: 2, up: "1000000010000" });
  });

  test("the tally sums past bigint: thousands of 2^53 claims", async () => {
    const t = new Tracker({ ...POLICY, maxRateBytesPerSecond: 1 }, () => 0);
    t.load(
      [{ id: cheater.id, passkey: cheater.passkey, disabled: false }],
      [{ id: torrentId, infoHash: Buffer.from(HASH).toString("hex"), infoHashV2: null, snatches: 0 }],
    );
    for (let i = 0; i < 3000; i++)
      claim(t, T0 + 100 + i * 30, Number.MAX_SAFE_INTEGER, "Cheat/0.1", HASH, 3 + (i % 3));
    const { seq, batch } = batchOf(t);
    expect(batch.rows.length / SUSPICIOUS_FIELDS).toBe(3000);
    writer.add("run-b", seq, batch);
    await writer.flush();
    const [tally] = await h.db.sql`select records, uncredited_up::text as up from suspicious_tally`;
    expect(tally!.records).toBe(3002);
    expect(BigInt(tally!.up)).toBe(1_000_000_010_000n + 3000n * (2n ** 53n - 1n));
    expect(BigInt(tally!.up) > 2n ** 63n).toBe(true);
  });

  test("rows with impossible values are dropped, the rest written; a member who is gone is left out", async () => {
    const t = tracker();
    claim(t, T0 + 100_000, 5000, `Evil\u0000Agent ${"x".repeat(300)}`);
    const { seq, batch } = batchOf(t);
    const rows = new Float64Array(batch.rows.length * 3);
    rows.set(batch.rows);
    rows.set(batch.rows, batch.rows.length);
    rows.set(batch.rows, batch.rows.length * 2);
    rows[SUSPICIOUS_FIELDS + 2] = Number.NaN; // the second row's claimed upload
    rows[SUSPICIOUS_FIELDS * 2] = 999_999; // the third row's member does not exist
    const peerIds = new Uint8Array(60);
    for (let i = 0; i < 3; i++) peerIds.set(batch.peerIds, i * 20);
    writer.add("run-c", seq, { rows, peerIds, agents: [batch.agents[0]!, "", ""] });
    await writer.flush();
    const stored = await h.db.sql`
      select user_id, user_agent from suspicious_transfers where at = ${new Date((T0 + 100_000) * 1000)}`;
    // Cut to 200 characters by the tracker, the NUL taken out by the writer.
    expect([...stored]).toEqual([{ userId: cheater.id, userAgent: `EvilAgent ${"x".repeat(189)}` }]);
  });
});

describe("the moderators' page and the API", () => {
  test("only moderators: the log-in page for visitors, 403 for members without the role", async () => {
    const anonymous = await h.request("/admin/suspicious");
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toStartWith("/login?next=");
    expect((await h.request("/admin/suspicious", { cookie: plain.cookie })).status).toBe(403);
    await expectError(await h.call("/api/v1/suspicious"), 401, "unauthenticated");
    await expectError(await h.call("/api/v1/suspicious", { as: { token: plain.token } }), 403, "forbidden");
  });

  test("the page lists records newest first, escaped, with the tally", async () => {
    const response = await h.request("/admin/suspicious", { cookie: moderator.cookie });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Suspicious transfers");
    expect(html).toContain("Linux &lt;b&gt;ISO&lt;/b&gt;");
    expect(html).not.toContain("<b>ISO</b>");
    expect(html).toContain("-CH0100-");
    expect(html).toContain("faster than the rate cap; upload with nobody to upload to");
    // Newest first: the record of T0 + 100000 before the 2^53 claims.
    expect(html.indexOf("EvilAgent")).toBeGreaterThan(0);
    expect(html.indexOf("EvilAgent")).toBeLessThan(html.indexOf("8.00 PiB"));
    const tally = html.slice(html.indexOf('id="tally"'));
    expect(tally).toContain(">cheater<");
    expect(tally).toContain("3003");
  });

  test("the API pages through the records and returns the tally", async () => {
    const first = await expectJson<{
      items: { member: { name: string }; claimed_up: number; credited_up: number; reasons: string[] }[];
      tally: { member: { name: string }; records: number; uncredited_up: string }[];
      has_next: boolean;
      limit: number;
    }>(await h.call("/api/v1/suspicious?limit=2", { as: { token: moderator.token } }));
    expect(first.items).toHaveLength(2);
    expect(first.has_next).toBe(true);
    expect(first.items[0]!.claimed_up).toBe(5000);
    expect(first.tally).toEqual([
      expect.objectContaining({ member: { id: cheater.id, name: "cheater" }, records: 3003 }),
    ]);
    // The 3000 claims of one member, torrent and reasons are one record an hour (26 hours, the
    // first with the 10^12 claim of the same hour), with their count and their claims summed
    // (stopping at 2^53 - 1).
    const last = await expectJson<{
      items: { torrent: unknown; claimed_up: number; repeats: number; reasons: string[] }[];
      has_next: boolean;
    }>(await h.call("/api/v1/suspicious?limit=100&page=1", { as: { token: moderator.token } }));
    expect(last.has_next).toBe(false);
    expect(last.items).toHaveLength(2 + 26);
    const repeated = last.items.filter((r) => r.reasons.includes("rate") && r.claimed_up > 2 ** 52);
    expect(repeated).toHaveLength(26);
    expect(repeated.reduce((n, r) => n + r.repeats, 0)).toBe(3001);
    expect(repeated[0]!.claimed_up).toBe(Number.MAX_SAFE_INTEGER);
    expect(last.items.at(-1)).toEqual(
      expect.objectContaining({ torrent: null, claimed_up: 10_000, repeats: 1 }),
    );
    await expectError(
      await h.call("/api/v1/suspicious?page=0", { as: { token: moderator.token } }),
      422,
      "validation",
    );
  });
});

describe("bounded per member", () => {
  test("at most 50 rows a member a day: repeats add to their row, new rows beyond are counted only", async () => {
    const day = T0 + 10 * 86_400;
    const hashes = Array.from({ length: 60 }, (_, i) => bytes20(0x40 + (i >> 4), 0x90 + (i & 15)));
    const torrents = [];
    for (const [i, hash] of hashes.entries()) {
      const [row] = await h.db.sql`
        insert into torrents (info_hash, title, size, files, metainfo)
        values (${Buffer.from(hash)}, ${`Bounded ${i}`}, 1000, '[]', ${Buffer.from("de")})
        returning id`;
      torrents.push({
        id: row!.id as number,
        infoHash: Buffer.from(hash).toString("hex"),
        infoHashV2: null,
        snatches: 0,
      });
    }
    const t = new Tracker(POLICY, () => 0);
    t.load([{ id: cheater.id, passkey: cheater.passkey, disabled: false }], torrents);
    const [before] = await h.db.sql`select records::int, unlisted::int from suspicious_tally`;
    for (const [i, hash] of hashes.entries()) claim(t, day + 10 + i, 5000, "Cheat/0.1", hash, 100 + i);
    const first = batchOf(t);
    writer.add("run-d", first.seq, first.batch);
    await writer.flush();
    const count = async () =>
      (
        await h.db.sql`
          select count(*)::int as n from suspicious_transfers
          where user_id = ${cheater.id} and at >= ${new Date(day * 1000)}`
      )[0]!.n;
    expect(await count()).toBe(50);
    // Within the same hour: the first torrent's record takes the repeat; the last one is still out.
    claim(t, day + 100, 7000, "Cheat/0.1", hashes[0]!, 100);
    claim(t, day + 101, 7000, "Cheat/0.1", hashes[59]!, 159);
    const second = batchOf(t);
    writer.add("run-d", second.seq, second.batch);
    await writer.flush();
    expect(await count()).toBe(50);
    const [repeated] = await h.db.sql`
      select repeats::int, claimed_up, seconds, first_at, at from suspicious_transfers
      where torrent_id = ${torrents[0]!.id}`;
    expect(repeated).toEqual({
      repeats: 2,
      claimedUp: 12_000,
      seconds: 20,
      firstAt: new Date((day + 10) * 1000),
      at: new Date((day + 100) * 1000),
    });
    const [after] = await h.db.sql`select records::int, unlisted::int from suspicious_tally`;
    expect([after!.records - before!.records, after!.unlisted - before!.unlisted]).toEqual([62, 11]);
    const html = await (await h.request("/admin/suspicious", { cookie: moderator.cookie })).text();
    expect(html).toContain("×2");
    const api = await expectJson<{ items: { repeats: number; first_at: string }[] }>(
      await h.call("/api/v1/suspicious?limit=100", { as: { token: moderator.token } }),
    );
    expect(api.items.find((r) => r.repeats === 2)!.first_at).toBe(new Date((day + 10) * 1000).toISOString());
  });
});
