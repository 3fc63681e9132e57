// The accounting attacks and holes, over real sockets against the real process layout (web side,
// tracker Worker, database): each of these passed the old tracker. A member inflating their upload
// with a counter jump or alone in a swarm, re-sending `started` past the min interval, a seeder
// dropped by the reaper, rtorrent's completion without `completed`, a repeated completion after a
// restart, an HTTP/1.0 client without Host, a dual-stack client.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import bencode from "bencode";
import type { Config } from "../../src/config.ts";
import { memberSnatches } from "../../src/db/queries/economy.ts";
import { createToken } from "../../src/db/queries/tokens.ts";
import { createUser, type Role } from "../../src/db/queries/users.ts";
import { type Running, serve } from "../../src/server.ts";
import { announceQuery, bytes20, escapeBytes } from "../helpers/announce.ts";
import { freshServerDatabase, startTestServer, testConfig } from "../helpers/server.ts";

type Decoded = Record<string, unknown>;
type Server = { running: Running; tracker: string; web: string };
type Member = { id: number; passkey: string };

async function until<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, ms = 8000) {
  const end = Date.now() + ms;
  let value = await probe();
  while (!ok(value)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await Bun.sleep(25);
    value = await probe();
  }
  return value;
}

async function member(running: Running, name: string, roles: Role[] = []): Promise<Member> {
  const { user } = await createUser(running.db.sql, { name, passwordHash: "x", roles });
  await running.sync.user(user.id);
  return { id: user.id, passkey: user.passkey };
}

async function torrent(running: Running, hash: Uint8Array): Promise<number> {
  const [row] = await running.db.sql`
    insert into torrents (info_hash, title, size, files, metainfo)
    values (${Buffer.from(hash)}, ${`Torrent ${hash[0]}`}, 1000, '[]', ${Buffer.from("de")})
    returning id
  `;
  await running.sync.torrent(row!.id);
  return row!.id as number;
}

/** Announces over HTTP and decodes the reply (a failure reason throws). */
async function announce(
  server: Server,
  who: Member,
  p: Parameters<typeof announceQuery>[0],
  origin = server.tracker,
): Promise<Decoded> {
  const response = await fetch(`${origin}/${who.passkey}/announce?${announceQuery(p)}`);
  const body = bencode.decode(Buffer.from(await response.arrayBuffer())) as Decoded;
  if (body["failure reason"]) throw new Error(Buffer.from(body["failure reason"] as Uint8Array).toString());
  return body;
}

async function scrape(server: Server, who: Member, hash: Uint8Array): Promise<Decoded> {
  const response = await fetch(`${server.tracker}/${who.passkey}/scrape?info_hash=${escapeBytes(hash)}`);
  const files = (bencode.decode(Buffer.from(await response.arrayBuffer())) as Decoded).files as Record<
    string,
    Decoded
  >;
  return Object.values(files)[0] ?? {};
}

async function totals(server: Server, who: Member): Promise<{ uploaded: number; downloaded: number }> {
  const [row] = await server.running.db.sql`select uploaded, downloaded from users where id = ${who.id}`;
  return row as { uploaded: number; downloaded: number };
}

/** Seeds `hash` as member `who`, then waits for that credit: every batch sent before is written too. */
async function flushed(server: Server, who: Member, hash: Uint8Array): Promise<void> {
  const before = (await totals(server, who)).downloaded;
  const peerId = bytes20(0xee, 0x2d);
  await announce(server, who, { infoHash: hash, peerId, left: 100, event: "started" });
  await announce(server, who, { infoHash: hash, peerId, left: 100, downloaded: 7, event: "stopped" });
  await until(
    "the marker credit",
    () => totals(server, who),
    (t) => t.downloaded === before + 7,
  );
}

describe("with no min interval (every announce accounted)", () => {
  let server: Server & { stop(): Promise<void> };
  let alice: Member;
  let bob: Member;
  let carol: Member;
  let moderatorToken = "";
  const H = [0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27].map((n) => bytes20(n, n));

  beforeAll(async () => {
    server = await startTestServer({
      FAIRYWREN_TRACKER_HOST: "::",
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
      FAIRYWREN_PEER_TIMEOUT: "3",
      FAIRYWREN_LOG_LEVEL: "error",
      // These tests are about the rules before byte conservation (rate cap, swarm balance, grace,
      // dual-stack); conservation has its own block below.
      FAIRYWREN_BYTE_CONSERVATION: "false",
    });
    const root = await member(server.running, "root");
    moderatorToken = (await createToken(server.running.db.sql, root.id, "moderation"))!.token;
    alice = await member(server.running, "alice");
    bob = await member(server.running, "bob");
    carol = await member(server.running, "carol");
    for (const hash of H) await torrent(server.running, hash);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("uploaded=0 then 2^53 - 1, as `started` twice: credited at most the rate cap, recorded for moderators", async () => {
    const leecher = bytes20(0xb0, 0x2d);
    await announce(server, bob, { infoHash: H[0]!, peerId: leecher, left: 1000, event: "started" });
    const peerId = bytes20(0xa0, 0x2d);
    await announce(server, alice, { infoHash: H[0]!, peerId, left: 0, uploaded: 0, event: "started" });
    await announce(server, alice, {
      infoHash: H[0]!,
      peerId,
      left: 0,
      uploaded: Number.MAX_SAFE_INTEGER,
      event: "started",
    });
    await flushed(server, carol, H[6]!);
    const { uploaded } = await totals(server, alice);
    // At most (seconds since the first report + 1) × 1.25 GB/s: a second or two here.
    expect(uploaded).toBeGreaterThan(0);
    expect(uploaded).toBeLessThanOrEqual(3 * 1_250_000_000);
    type Page = {
      items: { member: { name: string }; claimed_up: number; credited_up: number; reasons: string[] }[];
    };
    const record = await until(
      "the record on the moderators' API",
      async () => {
        const response = await fetch(`${server.web}/api/v1/suspicious`, {
          headers: { authorization: `Bearer ${moderatorToken}` },
        });
        expect(response.status).toBe(200);
        return ((await response.json()) as Page).items.find((r) => r.member.name === "alice");
      },
      (r) => r !== undefined,
    );
    expect(record).toEqual(
      expect.objectContaining({
        claimed_up: Number.MAX_SAFE_INTEGER,
        credited_up: uploaded,
        reasons: ["rate"],
      }),
    );
  });

  test("a member alone in a new swarm claiming 1 PB is credited no upload", async () => {
    const peerId = bytes20(0xc0, 0x2d);
    await announce(server, carol, { infoHash: H[1]!, peerId, left: 0, uploaded: 0, event: "started" });
    await announce(server, carol, { infoHash: H[1]!, peerId, left: 0, uploaded: 1e15 });
    await flushed(server, bob, H[6]!);
    expect((await totals(server, carol)).uploaded).toBe(0);
    const [row] = await server.running.db.sql`
      select claimed_up, credited_up, reasons from suspicious_transfers where user_id = ${carol.id}`;
    expect(row!.claimedUp).toBe(1e15);
    expect(row!.creditedUp).toBe(0);
    expect(row!.reasons).toContain("no_leecher");
  });

  test("a seeder dropped by the reaper while seeding is credited its upload when it comes back", async () => {
    const peerId = bytes20(0xa1, 0x2d);
    await announce(server, alice, { infoHash: H[2]!, peerId, left: 0, uploaded: 100, event: "started" });
    await announce(server, bob, {
      infoHash: H[2]!,
      peerId: bytes20(0xb1, 0x2d),
      left: 1000,
      event: "started",
    });
    const before = (await totals(server, alice)).uploaded;
    await until(
      "the reaper to drop both peers",
      () => scrape(server, alice, H[2]!),
      (s) => s.complete === 0 && s.incomplete === 0,
    );
    // 16 MiB uploaded meanwhile (to bob), reported on the next announce, a regular one.
    await announce(server, alice, { infoHash: H[2]!, peerId, left: 0, uploaded: 100 + 16 * 2 ** 20 });
    const after = await until(
      "alice's upload credit",
      () => totals(server, alice),
      (t) => t.uploaded > before,
    );
    expect(after.uploaded - before).toBe(16 * 2 ** 20);
  });

  test("a leecher reaching left=0 without `completed` (rtorrent) is a seeder and one snatch", async () => {
    const peerId = new TextEncoder().encode("-lt0D80-rtorrent-e2e");
    await announce(server, bob, { infoHash: H[3]!, peerId, left: 1000, event: "started" });
    const done = await announce(server, bob, { infoHash: H[3]!, peerId, left: 0, downloaded: 1000 });
    expect([done.complete, done.incomplete, done.downloaded]).toEqual([1, 0, 1]);
    expect(await scrape(server, bob, H[3]!)).toEqual({ complete: 1, incomplete: 0, downloaded: 1 });
    const [row] = await until(
      "the snatch in the database",
      () => server.running.db.sql`select snatches from torrents where info_hash = ${Buffer.from(H[3]!)}`,
      (rows) => rows[0]?.snatches === 1,
    );
    expect(row!.snatches).toBe(1);
  });

  test("HTTP/1.0 without a Host header: announce and scrape find the passkey", async () => {
    const raw = async (path: string): Promise<Decoded> => {
      const chunks: Uint8Array[] = [];
      const closed = Promise.withResolvers<void>();
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port: server.running.trackerPort,
        socket: {
          data: (_, chunk) => void chunks.push(new Uint8Array(chunk)),
          close: () => closed.resolve(),
          error: (_, error) => closed.reject(error),
        },
      });
      socket.write(`GET ${path} HTTP/1.0\r\n\r\n`);
      // HTTP/1.0: the reply ends when the tracker closes the connection.
      await closed.promise;
      const text = Buffer.concat(chunks);
      const head = text.indexOf("\r\n\r\n");
      expect(text.subarray(0, head).toString()).toStartWith("HTTP/1.1 200");
      return bencode.decode(text.subarray(head + 4)) as Decoded;
    };
    const query = announceQuery({ infoHash: H[4]!, peerId: bytes20(0xd0, 0x2d), left: 0, event: "started" });
    const announced = await raw(`/${carol.passkey}/announce?${query}`);
    expect(announced["failure reason"]).toBeUndefined();
    expect([announced.complete, announced.incomplete]).toEqual([1, 0]);
    expect(typeof announced.interval).toBe("number");
    const scraped = await raw(`/${carol.passkey}/scrape?info_hash=${escapeBytes(H[4]!)}`);
    const files = scraped.files as Record<string, Decoded>;
    expect(Object.values(files)).toEqual([{ complete: 1, incomplete: 0, downloaded: 0 }]);
  });

  test("a dual-stack client (IPv4, then IPv6, one peer_id) is in peers and peers6, credited once", async () => {
    const peerId = bytes20(0xa2, 0x2d);
    const v6 = `http://[::1]:${server.running.trackerPort}`;
    await announce(server, bob, {
      infoHash: H[5]!,
      peerId: bytes20(0xb2, 0x2d),
      left: 500,
      event: "started",
    });
    await announce(server, alice, { infoHash: H[5]!, peerId, port: 6001, left: 0, event: "started" });
    await announce(server, alice, { infoHash: H[5]!, peerId, port: 6001, left: 0, event: "started" }, v6);
    const seen = await announce(server, bob, { infoHash: H[5]!, peerId: bytes20(0xb2, 0x2d), left: 500 });
    expect(seen.complete).toBe(1);
    expect([...(seen.peers as Uint8Array)]).toEqual([127, 0, 0, 1, 6001 >> 8, 6001 & 255]);
    expect([...(seen.peers6 as Uint8Array)]).toEqual([...new Array(15).fill(0), 1, 6001 >> 8, 6001 & 255]);
    const before = (await totals(server, alice)).uploaded;
    await announce(server, alice, { infoHash: H[5]!, peerId, port: 6001, left: 0, uploaded: 5000 });
    await announce(server, alice, { infoHash: H[5]!, peerId, port: 6001, left: 0, uploaded: 5000 }, v6);
    await flushed(server, carol, H[6]!);
    expect((await totals(server, alice)).uploaded - before).toBe(5000);
  });
});

describe("with a min interval", () => {
  let server: Server & { stop(): Promise<void> };
  let alice: Member;
  let bob: Member;
  const H = bytes20(0x31, 0x31);
  const MARK = bytes20(0x32, 0x32);

  beforeAll(async () => {
    server = await startTestServer({
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "60",
      FAIRYWREN_LOG_LEVEL: "error",
      // About the min interval, not byte conservation (its own block below).
      FAIRYWREN_BYTE_CONSERVATION: "false",
    });
    alice = await member(server.running, "alice");
    bob = await member(server.running, "bob");
    await torrent(server.running, H);
    await torrent(server.running, MARK);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("re-sending `started` earns nothing before min interval; `stopped` is credited at once", async () => {
    await announce(server, bob, { infoHash: H, peerId: bytes20(0xb3, 0x2d), left: 1000, event: "started" });
    const peerId = bytes20(0xa3, 0x2d);
    await announce(server, alice, { infoHash: H, peerId, left: 0, uploaded: 0, event: "started" });
    for (let i = 1; i <= 5; i++)
      await announce(server, alice, { infoHash: H, peerId, left: 0, uploaded: i * 1000, event: "started" });
    await flushed(server, bob, MARK);
    expect((await totals(server, alice)).uploaded).toBe(0);
    await announce(server, alice, { infoHash: H, peerId, left: 0, uploaded: 6000, event: "stopped" });
    await until(
      "the credit of `stopped`",
      () => totals(server, alice),
      (t) => t.uploaded === 6000,
    );
  });
});

describe("byte conservation (upload backed by other members' downloads)", () => {
  let server: Server & { stop(): Promise<void> };
  let alice: Member;
  let bob: Member;
  let carol: Member;
  const MB = 1_000_000;
  const H = [0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57].map((n) => bytes20(n, n));
  const ids: number[] = [];
  const RULE = {
    seedSeconds: 604_800,
    windowSeconds: 864_000,
    ratioPercent: 100,
    minDownloadPercent: 3,
    activeSeconds: 2700,
  };

  beforeAll(async () => {
    server = await startTestServer({
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
      FAIRYWREN_PEER_TIMEOUT: "3",
      FAIRYWREN_CLAIM_HOLD: "1",
      FAIRYWREN_LOG_LEVEL: "error",
    });
    alice = await member(server.running, "alice");
    bob = await member(server.running, "bob");
    carol = await member(server.running, "carol");
    for (const hash of H) {
      const [row] = await server.running.db.sql`
        insert into torrents (info_hash, title, size, files, metainfo)
        values (${Buffer.from(hash)}, ${`Torrent ${hash[0]}`}, ${MB}, '[]', ${Buffer.from("de")})
        returning id
      `;
      await server.running.sync.torrent(row!.id);
      ids.push(row!.id as number);
    }
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const reasonsOf = async (who: Member, torrentId: number) =>
    (
      await server.running.db.sql`
        select reasons from suspicious_transfers where user_id = ${who.id} and torrent_id = ${torrentId}`
    ).flatMap((r) => r.reasons as string[]);

  test("an honest seeder is credited what the leecher downloaded, once the download is held", async () => {
    const seed = bytes20(0xa0, 0x2d);
    const leech = bytes20(0xb0, 0x2d);
    await announce(server, alice, { infoHash: H[0]!, peerId: seed, left: 0, event: "started" });
    await announce(server, bob, { infoHash: H[0]!, peerId: leech, left: MB, event: "started" });
    await announce(server, bob, {
      infoHash: H[0]!,
      peerId: leech,
      left: 0,
      downloaded: MB,
      event: "completed",
    });
    await announce(server, alice, { infoHash: H[0]!, peerId: seed, left: 0, uploaded: MB + 800 });
    const after = await until(
      "alice's upload credit",
      () => totals(server, alice),
      (t) => t.uploaded > 0,
    );
    expect(after.uploaded).toBe(MB + 800);
  });

  test("a member alone in a swarm with two peer_ids is credited no upload, and the claim is recorded", async () => {
    const seed = bytes20(0xa1, 0x2d);
    const leech = bytes20(0xa2, 0x2d);
    await announce(server, alice, { infoHash: H[1]!, peerId: seed, left: 0, event: "started" });
    await announce(server, alice, { infoHash: H[1]!, peerId: leech, left: MB, event: "started" });
    await announce(server, alice, { infoHash: H[1]!, peerId: leech, left: 0, downloaded: MB });
    await announce(server, alice, { infoHash: H[1]!, peerId: seed, left: 0, uploaded: 1e12 });
    // Then expired (peer timeout 3 s + hold 1 s) and recorded, and still nothing credited.
    await flushed(server, carol, H[6]!);
    expect(
      Number(
        (
          await server.running.db.sql`
      select uploaded from user_torrent_stats where user_id = ${alice.id} and torrent_id = ${ids[1]!}`
        )[0]!.uploaded,
      ),
    ).toBe(0);
    await until(
      "the expired claim's record",
      () => reasonsOf(alice, ids[1]!),
      (r) => r.includes("unbacked"),
      15_000,
    );
    const [row] = await server.running.db.sql`
      select uploaded from user_torrent_stats where user_id = ${alice.id} and torrent_id = ${ids[1]!}`;
    expect(Number(row!.uploaded)).toBe(0);
  });

  test("flipping left=1 then left=0 alone in a swarm before each claim is credited no upload", async () => {
    const seed = bytes20(0xa3, 0x2d);
    await announce(server, carol, { infoHash: H[2]!, peerId: seed, left: 0, event: "started" });
    for (let i = 1; i <= 5; i++) {
      await announce(server, carol, { infoHash: H[2]!, peerId: seed, left: 1, uploaded: (i - 1) * 1e12 });
      await announce(server, carol, { infoHash: H[2]!, peerId: seed, left: 0, uploaded: (i - 1) * 1e12 });
      await announce(server, carol, { infoHash: H[2]!, peerId: seed, left: 0, uploaded: i * 1e12 });
    }
    await Bun.sleep(1500);
    await flushed(server, bob, H[6]!);
    const [row] = await server.running.db.sql`
      select uploaded from user_torrent_stats where user_id = ${carol.id} and torrent_id = ${ids[2]!}`;
    expect(Number(row!.uploaded)).toBe(0);
  });

  test("fake seeding of a 1 MB torrent claiming 1 TB against an idle leecher is credited nothing", async () => {
    const seed = bytes20(0xa4, 0x2d);
    const idle = bytes20(0xb4, 0x2d);
    await announce(server, bob, { infoHash: H[3]!, peerId: idle, left: MB, event: "started" });
    await announce(server, alice, { infoHash: H[3]!, peerId: seed, left: 0, event: "started" });
    await announce(server, bob, { infoHash: H[3]!, peerId: idle, left: MB });
    await announce(server, alice, { infoHash: H[3]!, peerId: seed, left: 0, uploaded: 1e12 });
    await flushed(server, carol, H[6]!);
    expect(
      Number(
        (
          await server.running.db.sql`
      select uploaded from user_torrent_stats where user_id = ${alice.id} and torrent_id = ${ids[3]!}`
        )[0]!.uploaded,
      ),
    ).toBe(0);
    await until(
      "the expired claim's record",
      () => reasonsOf(alice, ids[3]!),
      (r) => r.includes("unbacked"),
      15_000,
    );
    const [row] = await server.running.db.sql`
      select uploaded from user_torrent_stats where user_id = ${alice.id} and torrent_id = ${ids[3]!}`;
    expect(Number(row!.uploaded)).toBe(0);
  });

  test("left falling from the size to 0 with downloaded=0 is charged and the snatch owes seeding", async () => {
    const leech = bytes20(0xb5, 0x2d);
    await announce(server, carol, { infoHash: H[4]!, peerId: leech, left: MB, event: "started" });
    await announce(server, carol, {
      infoHash: H[4]!,
      peerId: leech,
      left: 0,
      downloaded: 0,
      event: "completed",
    });
    const row = await until(
      "carol's history row",
      async () =>
        (
          await server.running.db.sql`
            select downloaded, completed_at from user_torrent_stats
            where user_id = ${carol.id} and torrent_id = ${ids[4]!}`
        )[0],
      (r) => r?.completedAt != null,
    );
    expect(Number(row!.downloaded)).toBe(MB - MB * 0.005);
    expect(await reasonsOf(carol, ids[4]!)).toContain("left_implied");
    const [snatch] = await memberSnatches(server.running.db.sql, RULE, carol.id, new Date(), {
      limit: 10,
      offset: 0,
    }).then((rows) => rows.filter((r) => r.torrentId === ids[4]));
    expect(snatch!.settledBy).toBe(null);
    expect(snatch!.status).not.toBe("satisfied");
  });

  test("a freeleech snatch is still subject to hit-and-run", async () => {
    await server.running.db.sql`update torrents set download_factor = 0 where id = ${ids[5]!}`;
    await server.running.sync.torrent(ids[5]!);
    const leech = bytes20(0xb6, 0x2d);
    await announce(server, bob, { infoHash: H[5]!, peerId: leech, left: MB, event: "started" });
    await announce(server, bob, {
      infoHash: H[5]!,
      peerId: leech,
      left: 0,
      downloaded: MB,
      event: "completed",
    });
    const row = await until(
      "bob's history row",
      async () =>
        (
          await server.running.db.sql`
            select downloaded, completed_at from user_torrent_stats
            where user_id = ${bob.id} and torrent_id = ${ids[5]!}`
        )[0],
      (r) => r?.completedAt != null,
    );
    expect(Number(row!.downloaded)).toBe(0);
    const [snatch] = await memberSnatches(server.running.db.sql, RULE, bob.id, new Date(), {
      limit: 10,
      offset: 0,
    }).then((rows) => rows.filter((r) => r.torrentId === ids[5]));
    expect(snatch!.settledBy).toBe(null);
    expect(snatch!.status).not.toBe("satisfied");
  });
});

describe("across a restart", () => {
  let config: Config;
  let drop = async () => {};
  let running: Running | null = null;
  const H = bytes20(0x41, 0x41);

  const start = async (): Promise<Server> => {
    running = await serve(config);
    return {
      running,
      tracker: `http://127.0.0.1:${running.trackerPort}`,
      web: `http://127.0.0.1:${running.webPort}`,
    };
  };

  beforeAll(async () => {
    const db = await freshServerDatabase();
    drop = db.drop;
    config = testConfig({ ...db.env, FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0", FAIRYWREN_LOG_LEVEL: "error" });
  });
  afterAll(async () => {
    await running?.stop();
    await drop();
  });

  test("a member completing again after a restart is not another snatch, in the scrape or the database", async () => {
    const first = await start();
    const bob = await member(first.running, "bob");
    const id = await torrent(first.running, H);
    const peerId = bytes20(0xb4, 0x2d);
    await announce(first, bob, { infoHash: H, peerId, left: 1000, event: "started" });
    await announce(first, bob, { infoHash: H, peerId, left: 0, downloaded: 1000, event: "completed" });
    await until(
      "the snatch in the database",
      async () => (await first.running.db.sql`select snatches from torrents where id = ${id}`)[0]?.snatches,
      (n) => n === 1,
    );
    // The first client quits (peers now survive a restart: one that said nothing would still be
    // counted after it, until its timeout).
    await announce(first, bob, { infoHash: H, peerId, left: 0, downloaded: 1000, event: "stopped" });
    await first.running.stop();
    running = null;

    const second = await start();
    const again = bytes20(0xb5, 0x2d);
    await announce(second, bob, { infoHash: H, peerId: again, left: 1000, event: "started" });
    const done = await announce(second, bob, {
      infoHash: H,
      peerId: again,
      left: 0,
      downloaded: 1000,
      event: "completed",
    });
    expect(done.downloaded).toBe(1);
    expect((await scrape(second, bob, H)).downloaded).toBe(1);
    // Once the second download's credit is written, so would a snatch sent with it have been.
    await until(
      "the second download's credit",
      () => totals(second, bob),
      (t) => t.downloaded === 2000,
    );
    const [row] = await second.running.db.sql`select snatches from torrents where id = ${id}`;
    expect(row!.snatches).toBe(1);
    const live = await until(
      "the live counts",
      async () => second.running.counts.get(id),
      (c) => c?.seeders === 1,
    );
    expect(live!.snatches).toBe(1);
  }, 60_000);
});
